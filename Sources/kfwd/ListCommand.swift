import ArgumentParser
import ConfigStore
import Forwarding
import Foundation

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the saved forwards and what each is doing.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(name: .shortAndLong, help: "Output format: table or json.")
    var output: Format = .table

    struct Row: Encodable {
        let alias: String
        let target: String
        let protocolName: String
        let localPort: Int
        let remotePort: Int
        let namespace: String
        let context: String?
        let state: String
        let pods: [String]
        let autoStart: Bool

        enum CodingKeys: String, CodingKey {
            case alias, target, namespace, context, state, pods
            case protocolName = "protocol"
            case localPort = "local_port"
            case remotePort = "remote_port"
            case autoStart = "auto_start"
        }
    }

    func run() throws {
        let store = try ConfigStore.forCLI()
        let (forwards, states) = try ConfigStore.reporting { () throws(ConfigStoreError) in (try store.forwards(), try store.states()) }
        let byForward = Dictionary(states.map { ($0.forwardID, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = forwards.map { forward in
            let config = forward.config
            // A row whose owner process is gone shows stopped: nothing shows running that is not.
            let state = forward.id.flatMap { byForward[$0] }.flatMap { ProcessLiveness.isAlive($0.ownerPID) ? $0 : nil }
            return Row(
                alias: forward.alias, target: Self.target(config), protocolName: config.protocol ?? "tcp", localPort: config.localPort ?? 0,
                remotePort: config.remotePort ?? 0, namespace: config.namespace ?? "", context: config.context, state: state?.status ?? "stopped",
                pods: state?.pods ?? [], autoStart: forward.autoStart
            )
        }
        switch self.output {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write((try encoder.encode(rows)) + Data("\n".utf8))
        case .table:
            let table = [["ALIAS", "TARGET", "PORTS", "NAMESPACE", "CONTEXT", "STATE", "PODS"]] + rows.map { row in
                [
                    row.alias, row.target, "\(row.localPort == 0 ? "" : String(row.localPort)):\(row.remotePort)\(row.protocolName == "udp" ? "/udp" : "")",
                    row.namespace, row.context ?? "(current)", row.state, row.pods.isEmpty ? "-" : row.pods.joined(separator: ","),
                ]
            }
            let widths = (0..<7).map { column in table.map { $0[column].count }.max() ?? 0 }
            for line in table {
                Terminal.line(zip(line, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }

    static func target(_ config: KftrayConfig) -> String {
        switch config.workloadType {
        case "service": "svc/\(config.service ?? "")"
        case "pod": "pods -l \(config.target ?? "")"
        case "proxy": "host/\(config.remoteAddress ?? "")"
        case let other: other ?? "?"
        }
    }
}
