import ArgumentParser
import Forwarding
import Foundation
import KubeClient
import Logging
import UnixSignals

struct ForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Forward local ports to a pod, as kubectl port-forward does.",
        discussion: """
            PORTS are [LOCAL:]REMOTE: 8080:80 forwards local 8080 to port 80 of the pod, 80 uses the same \
            port on both sides, :80 (or 0:80) picks a free local port. Every local port is bound before \
            anything is dialed. Each local connection gets its own stream; a failed stream fails only its \
            connection. Stops on Ctrl-C or SIGTERM.
            """
    )

    @Argument(help: "The pod: pod/NAME (or NAME).")
    var target: String

    @Argument(help: "[LOCAL:]REMOTE port pairs.")
    var ports: [String]

    @Option(name: .shortAndLong, help: "Namespace (default: the context's, else 'default').")
    var namespace: String?

    @Option(help: "Kubeconfig context (default: the current context).")
    var context: String?

    @Option(help: "Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "Local addresses to listen on, comma-separated; localhost means 127.0.0.1 and ::1.")
    var address = "127.0.0.1"

    func validate() throws {
        if self.ports.isEmpty { throw ValidationError("give at least one port, e.g. `kfwd forward pod/web 8080:80`") }
        _ = try self.podName()
        for port in self.ports {
            do { _ = try PortMapping(parsing: port) } catch { throw ValidationError(error.message) }
        }
        do { _ = try ListenAddresses(parsing: self.address) } catch { throw ValidationError(error.message) }
    }

    private func podName() throws -> String {
        let parts = self.target.split(separator: "/", maxSplits: 1).map(String.init)
        if parts.count == 1 { return parts[0] }
        switch parts[0].lowercased() {
        case "pod", "pods", "po": return parts[1]
        case "svc", "service", "services", "deploy", "deployment", "deployments":
            throw ValidationError("'\(self.target)': kfwd forward follows single pods for now; forward to one of its pods with pod/NAME")
        default:
            throw ValidationError("'\(self.target)' is not a pod: write pod/NAME")
        }
    }

    func run() async throws {
        let pod = try self.podName()
        let mappings = try self.ports.map { try PortMapping(parsing: $0) }
        let addresses = try ListenAddresses(parsing: self.address)
        let context: KubeContext
        do {
            let config = try KubeconfigLoader(explicitPath: self.kubeconfig).load()
            context = try KubeContext(config, context: self.context)
        } catch {
            Terminal.error(error.message)
            throw ExitCode.failure
        }
        let namespace = self.namespace ?? context.namespace
        var logger = Logger(label: "kfwd")
        logger.logLevel = .warning
        let client = try KubeClient(context: context, logger: logger)
        let forward = PodForward(
            client: client, transport: WebSocketPortForwardTransport(client: client), namespace: namespace, pod: pod,
            mappings: mappings, addresses: addresses
        )
        let outcome = await withTaskGroup(of: ForwardError?.self) { group in
            group.addTask {
                do throws(ForwardError) {
                    try await forward.run(events: Terminal.report)
                    return nil
                } catch {
                    return error
                }
            }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        try? await client.shutdown()
        if let outcome {
            Terminal.error(outcome.message)
            throw ExitCode.failure
        }
    }
}
