import ArgumentParser
import Foundation
import KubeClient
import KubeSim

/// Plays a fault on a running `kubesim serve`, through KubeSim's own admin endpoint.
struct FaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fault",
        abstract: "Make a running kubesim misbehave as a network or an apiserver does.",
        discussion: """
            silence: every open API connection stops carrying bytes both ways, for good (a NAT that forgot \
            them); new connections work. blackhole --for S: open and new connections hang for S seconds, \
            then carry on. restart-api [--for S]: the API listener and every connection close and come \
            back on the same port after S seconds (default at once). drop-watches: every client watch \
            ends. expire-watches: every client watch ends and resuming one gets 410 Expired. Needs the \
            admin kubeconfig `kubesim serve` wrote.
            """
    )

    @Argument(help: "silence, blackhole, restart-api, drop-watches or expire-watches.")
    var kind: String

    @Option(name: .customLong("for"), help: "Seconds the fault lasts (blackhole, restart-api).")
    var seconds: Double?

    @Option(help: "The kubeconfig `kubesim serve` wrote.")
    var kubeconfig: String

    func run() async throws {
        guard let kind = KubeSimFault.Kind(rawValue: self.kind) else {
            let kinds = KubeSimFault.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("unknown fault '\(self.kind)': use one of \(kinds)")
        }
        let fault: KubeSimFault
        do { fault = try KubeSimFault(kind, seconds: self.seconds) } catch { throw ValidationError(error.message) }
        let context = try KubeContext(try KubeconfigLoader(explicitPath: self.kubeconfig).load())
        let body = try JSONEncoder().encode(fault)
        let response = try await KubeClient.withClient(context: context) { client in
            try await client.send(.POST, "/kubesim/faults", body: body)
        }
        let answer = try? JSONDecoder().decode([String: String].self, from: Data(response.body.readableBytesView))
        print(answer?["message"] ?? "fault \(kind.rawValue) injected")
    }
}
