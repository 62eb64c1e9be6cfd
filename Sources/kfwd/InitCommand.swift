import ArgumentParser
import ConfigStore
import Forwarding
import Foundation
import KubeClient
import Logging

/// `kfwd init`: a commented `kfwd.yaml` in the current folder, from the saved forwards or from a
/// namespace's Services (one forward per Service port, on the same port locally).
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented kfwd.yaml here: from the saved forwards, or with -n NAMESPACE from its Services."
    )

    @OptionGroup var cluster: ClusterOptions

    @Flag(help: "Replace a kfwd.yaml that is already here.")
    var force = false

    func run() async throws {
        let path = FileManager.default.currentDirectoryPath + "/kfwd.yaml"
        if FileManager.default.fileExists(atPath: path) && !self.force {
            Terminal.error("\(path) already exists: edit it, or give --force to replace it")
            throw ExitCode.failure
        }
        let (forwards, source) = try await self.cluster.namespace == nil ? self.saved() : self.services()
        let text = ProjectFile.text(for: forwards, source: source)
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            Terminal.error("cannot write \(path): \((error as NSError).localizedDescription)")
            throw ExitCode.failure
        }
        Terminal.line("Wrote \(path) with \(forwards.count) forward\(forwards.count == 1 ? "" : "s") (\(source)); `kfwd up` runs them")
    }

    private func saved() throws -> ([ProjectFile.Forward], String) {
        let store = try ConfigStore.forCLI()
        let saved = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.forwards() }
        let forwards = saved.compactMap { forward -> ProjectFile.Forward? in
            guard var config = try? forward.native() else { return nil }
            // A project file is shared: a kubeconfig path is this machine's.
            config.kubeconfig = nil
            return ProjectFile.Forward(alias: forward.alias, config: config)
        }
        return (forwards, "from the saved forwards")
    }

    private func services() async throws -> ([ProjectFile.Forward], String) {
        let context: KubeContext
        do { context = try self.cluster.source.resolve() } catch {
            Terminal.error(error.message)
            throw ExitCode.failure
        }
        let namespace = self.cluster.namespace ?? context.namespace
        var logger = Logger(label: "kfwd")
        logger.logLevel = .critical
        let services: [Service]
        do {
            services = try await KubeClient.withClient(context: context, logger: logger) { client in try await client.list(Service.self, namespace: namespace).items }
        } catch {
            Terminal.error("cannot list the Services of \(namespace): \((error as? KubeError)?.message ?? "\(error)")")
            throw ExitCode.failure
        }
        var forwards: [ProjectFile.Forward] = []
        for service in services.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
            guard let name = service.metadata.name, name != "kubernetes" else { continue }
            let ports = (service.spec?.ports ?? []).filter { ($0.protocol ?? "TCP") == "TCP" }.map { String($0.port) }
            guard !ports.isEmpty else { continue }
            forwards.append(ProjectFile.Forward(alias: name, config: ForwardConfig(target: "svc/\(name)", ports: ports, namespace: namespace, context: self.cluster.context)))
        }
        return (forwards, "from the Services of namespace \(namespace)")
    }
}
