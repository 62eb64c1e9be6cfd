import ArgumentParser
import ConfigStore
import ControlAPI
import Forwarding
import KubeClient

struct AddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Save a forward under an alias (kfwd start runs it in the daemon, kfwd up in the foreground).",
        discussion: """
            TARGET is svc/NAME, deploy/NAME, pod/NAME, host/NAME or ip/ADDRESS (an address the cluster \
            reaches, through kfwd's relay), or -l SELECTOR, with one or more [LOCAL:]REMOTE ports, as \
            kfwd forward takes them. The namespace defaults to the context's, as kubectl's does. kfwd export \
            writes the forwards kftray's format can hold (a Service, a selector or an address, one port).
            """
    )

    @Argument(help: "The forward's name.")
    var alias: String

    @Argument(help: "svc/NAME, deploy/NAME, pod/NAME, host/NAME or ip/ADDRESS (omit it with -l), then [LOCAL:]REMOTE ports.")
    var arguments: [String] = []

    @Option(name: [.customShort("l"), .long], help: "Forward to pods matching this label selector.")
    var selector: String?

    @OptionGroup var cluster: ClusterOptions

    @OptionGroup(title: "Health")
    var health: ProbeOptions

    @Flag(help: "Forward UDP (through kfwd's relay).")
    var udp = false

    @Option(help: "Local addresses to listen on, comma-separated.")
    var address: String?

    @Option(help: "Port-forward protocol: auto, tunnel, spdy or websocket (default: the transport setting).")
    var transport: String?

    @Flag(help: "Send every new connection to one pod while it stays ready.")
    var sticky = false

    @Option(name: .customLong("pod-wait"), help: "Seconds a new connection waits for a ready pod (default: the hold_seconds setting).")
    var podWait: Double?

    @Flag(name: .customLong("warm-streams"), help: "Keep a stream open ahead per port (WebSocket transport).")
    var warmStreams = false

    @Option(name: .customLong("tag"), help: "A label to group and filter forwards by (repeatable).")
    var tags: [String] = []

    @Option(name: .customLong("hostname"), help: "A name for its listen address in the hosts file, written by `sudo kfwd hosts apply` (repeatable).")
    var hostnames: [String] = []

    @Flag(name: .customLong("auto-start"), help: "Start it whenever the daemon starts.")
    var autoStart = false

    /// What the user asked for; checked, as every saved forward is, by the store.
    private func config() throws -> ForwardConfig {
        let target = self.selector == nil ? self.arguments.first : nil
        let ports = Array(self.selector == nil ? self.arguments.dropFirst() : self.arguments[...])
        guard target != nil || self.selector != nil else {
            throw ValidationError("name a target: svc/NAME, deploy/NAME, pod/NAME, host/NAME, ip/ADDRESS, or -l SELECTOR")
        }
        guard !ports.isEmpty else { throw ValidationError("give the port, e.g. `kfwd add web svc/web 8080:80`") }
        // The namespace of the context the forward will use, as kubectl picks it.
        let namespace = self.cluster.namespace ?? (try? self.cluster.source.resolve().namespace) ?? "default"
        var config = ForwardConfig(
            target: target, selector: self.selector, ports: ports, namespace: namespace, context: self.cluster.context,
            kubeconfig: self.cluster.kubeconfig, address: self.address, udp: self.udp, sticky: self.sticky, podWaitSeconds: self.podWait,
            transport: self.transport, warmStreams: self.warmStreams, tags: self.tags, probe: self.health.probe,
            probeIntervalSeconds: self.health.probeInterval
        )
        config.hostnames = self.hostnames
        return config
    }

    func validate() throws {
        let config = try self.config()
        do throws(ForwardError) { _ = try config.forwardSpec(alias: self.alias) } catch { throw ValidationError(error.message) }
    }

    func run() async throws {
        let config = try self.config()
        let store = try ConfigStore.forCLI()
        let saved = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.add(config, alias: self.alias, autoStart: self.autoStart) }
        let ports = (try? config.forwardSpec(alias: saved.alias).mappings.map(\.description)) ?? config.ports
        await ControlClient(paths: DaemonPaths()).storeChanged()
        Terminal.line("Saved \(saved.alias): \(config.targetDescription) \(ports.joined(separator: " ")) in namespace \(config.namespace ?? "")")
    }
}
