import ArgumentParser
import ConfigStore
import Forwarding
import KubeClient

struct AddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Save a forward under an alias (kfwd up runs the saved forwards).",
        discussion: """
            TARGET is svc/NAME, host/NAME or ip/ADDRESS (an address the cluster reaches, through kfwd's relay), \\
            or -l SELECTOR: the kinds kftray's config format holds, so that kfwd export writes a file kftray \\
            reads. The namespace defaults to the context's, as kubectl's does.
            """
    )

    @Argument(help: "The forward's name.")
    var alias: String

    @Argument(help: "svc/NAME, host/NAME or ip/ADDRESS; omit it with -l.")
    var target: String?

    @Argument(help: "[LOCAL:]REMOTE (LOCAL 0 or omitted with ':' picks a free port when it starts).")
    var port: String?

    @Option(name: [.customShort("l"), .long], help: "Forward to pods matching this label selector.")
    var selector: String?

    @OptionGroup var cluster: ClusterOptions

    @Flag(help: "Forward UDP (through kfwd's relay).")
    var udp = false

    @Option(help: "Local address to listen on.")
    var address: String?

    @Option(help: "Port-forward protocol: auto, tunnel, spdy or websocket.")
    var transport: String?

    @Flag(name: .customLong("auto-start"), help: "Start it whenever the daemon starts.")
    var autoStart = false

    func run() throws {
        var config = KftrayConfig()
        let portText = self.selector != nil && self.port == nil ? self.target : self.port
        guard let portText else { throw ValidationError("give the port, e.g. `kfwd add web svc/web 8080:80`") }
        let mapping: PortMapping
        do { mapping = try PortMapping(parsing: portText) } catch { throw ValidationError(error.message) }
        if let selector = self.selector {
            do { _ = try ForwardTarget.selector(validating: selector) } catch { throw ValidationError(error.message) }
            config.workloadType = "pod"
            config.target = selector
        } else {
            guard let text = self.target else { throw ValidationError("name a target: svc/NAME, host/NAME, ip/ADDRESS, or -l SELECTOR") }
            let target: ForwardTarget
            do { target = try ForwardTarget(parsing: text) } catch { throw ValidationError(error.message) }
            switch target {
            case .service(let name):
                config.workloadType = "service"
                config.service = name
            case .address(let host):
                config.workloadType = "proxy"
                config.remoteAddress = host
            case .pod, .deployment, .selector:
                throw ValidationError("'\(text)': saved forwards use kftray's kinds: svc/NAME, host/NAME, ip/ADDRESS or -l SELECTOR (for a Deployment, its pods' labels)")
            }
        }
        // The namespace of the context the forward will use, as kubectl picks it.
        config.namespace = self.cluster.namespace ?? (try? self.cluster.source.resolve().namespace) ?? "default"
        config.context = self.cluster.context
        config.kubeconfig = self.cluster.kubeconfig
        config.localPort = mapping.local
        config.remotePort = mapping.remote
        config.protocol = self.udp ? "udp" : "tcp"
        if let address = self.address {
            do { _ = try ListenAddresses(parsing: address) } catch { throw ValidationError(error.message) }
            config.localAddress = address
        }
        if let transport = self.transport {
            do { _ = try PortForwardTransportKind(parsing: transport) } catch { throw ValidationError("--transport: \(error.message)") }
            config.transport = transport
        }
        let store = try ConfigStore.forCLI()
        let saved = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.add(config, alias: self.alias, autoStart: self.autoStart) }
        Terminal.line("Saved \(saved.alias): \(self.selector.map { "pods -l \($0)" } ?? self.target ?? "") \(mapping) in namespace \(config.namespace ?? "")")
    }
}
