import ArgumentParser
import ConfigStore
import ControlAPI
import Daemon
import Foundation

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the saved forwards and what each is doing.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(name: .shortAndLong, help: "Output format: table or json.")
    var output: Format = .table

    @Option(name: .customLong("tag"), help: "Only the forwards with this tag (repeatable: any of them).")
    var tags: [String] = []

    @Option(help: "Only the forwards of this group (a repository's, saved with kfwd start --project).")
    var group: String?

    struct Row: Encodable {
        let alias: String
        let target: String
        let protocolName: String
        /// The first pair's ports (kftray's fields; no remote port when it is named); ``ports``
        /// has every pair.
        let localPort: Int
        let remotePort: Int?
        let ports: [String]
        let namespace: String
        let context: String?
        let state: String
        let pods: [String]
        let autoStart: Bool
        let tags: [String]
        let group: String?

        enum CodingKeys: String, CodingKey {
            case alias, target, ports, namespace, context, state, pods, tags, group
            case protocolName = "protocol"
            case localPort = "local_port"
            case remotePort = "remote_port"
            case autoStart = "auto_start"
        }
    }

    func run() async throws {
        let store = try ConfigStore.forCLI()
        let forwards = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.forwards() }
        // The states `kfwd status` reports: the daemon's, else stopped.
        let report = try await ConfigStore.reporting { () async throws(ConfigStoreError) in try await ControlClient(paths: DaemonPaths()).report(store) }
        let live = Dictionary(report.forwards.map { ($0.alias, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = forwards.compactMap { forward -> Row? in
            let native = try? forward.native()
            guard self.tags.isEmpty || forward.isTagged(withAnyOf: self.tags) else { return nil }
            guard self.group == nil || native?.group == self.group else { return nil }
            let spec = try? native?.forwardSpec(alias: forward.alias)
            let mappings = spec?.mappings ?? []
            let state = live[forward.alias]
            return Row(
                // A kind kfwd does not run (expose) by its kftray name.
                alias: forward.alias, target: spec?.target.description ?? forward.config.workloadType ?? "?",
                protocolName: spec.map { $0.udp ? "udp" : "tcp" } ?? forward.config.protocol ?? "tcp",
                localPort: mappings.first?.local ?? forward.config.localPort ?? 0, remotePort: mappings.first.map { $0.remote.number } ?? forward.config.remotePort,
                ports: mappings.map(\.description), namespace: native?.namespace ?? forward.config.namespace ?? "",
                context: native?.context ?? forward.config.context, state: state?.status ?? "stopped", pods: state?.pods ?? [],
                autoStart: forward.autoStart, tags: native?.tags ?? [], group: native?.group
            )
        }
        switch self.output {
        case .json:
            try Terminal.json(rows)
        case .table:
            let table = [["ALIAS", "TARGET", "PORTS", "NAMESPACE", "CONTEXT", "STATE", "PODS"]] + rows.map { row in
                [
                    row.alias, row.target,
                    (row.ports.isEmpty ? ["\(row.localPort):\(row.remotePort.map(String.init) ?? "?")"] : row.ports)
                        .map { "\($0.hasPrefix("0:") ? String($0.dropFirst()) : $0)\(row.protocolName == "udp" ? "/udp" : "")" }.joined(separator: ","),
                    row.namespace, row.context ?? "(current)", row.state, row.pods.isEmpty ? "-" : row.pods.joined(separator: ","),
                ]
            }
            let widths = (0..<7).map { column in table.map { $0[column].count }.max() ?? 0 }
            for line in table {
                Terminal.line(zip(line, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }
}
