import ControlAPI
import Daemon
import Forwarding
import Foundation
import KubeClient
import Synchronization

/// What the CLI prints: kubectl's lines where kubectl has one, so scripts that wait for
/// `Forwarding from` keep working.
enum Terminal {
    /// Also report each connection's pod.
    static let verbose = Mutex(false)

    @Sendable static func report(_ event: ForwardEvent) {
        switch event {
        case .listening(let address, let local, let remote):
            self.line("Forwarding from \(ForwardStatus.Socket(address: address, port: local)) -> \(remote)")
        case .waiting(let local, let reason):
            self.line("Waiting on local port \(local): \(reason.message); new connections are held until a pod is ready")
        case .ready(let pods):
            guard !pods.isEmpty else { return }
            self.line("Ready: new connections go to \(pods.count == 1 ? "pod" : "pods") \(pods.joined(separator: ", "))")
        case .api(let error?):
            self.error(ForwardEvent.apiMessage(error))
        case .api(nil):
            self.line("The API server is reachable again")
        case .kubeconfig(true, let message):
            self.sentence(message)
        case .kubeconfig(false, let message):
            self.error(message)
        case .transport(let name):
            self.line("Transport: \(name)\(name == "tunnel" ? " (SPDY over WebSocket)" : "")")
        case .relay(let message):
            self.line("Relay: \(message)")
        case .following(let note):
            self.sentence(note)
        case .routed(let local, let pod):
            if self.verbose.withLock({ $0 }) { self.line("Connection on \(local) -> pod \(pod)") }
        case .heldBack(let pod):
            if self.verbose.withLock({ $0 }) { self.sentence(ForwardEvent.heldBackMessage(pod: pod)) }
        case .health(let pod, let failure):
            self.sentence(ForwardEvent.healthMessage(pod: pod, failure: failure))
        case .network(let notice):
            self.sentence(notice.message)
        case .connection(let local, _):
            self.line("Handling connection for \(local)")
        case .connectionFailed(let local, _, let error):
            self.error("connection on local port \(local): \(error.message)\(error.fix.map { " (\($0))" } ?? "")")
        }
    }

    /// Pretty, sorted JSON on standard output, as every `--json` / `-o json` prints it.
    static func json(_ value: some Encodable) throws {
        FileHandle.standardOutput.write(try StatusReport.encoder.encode(value) + Data("\n".utf8))
    }

    /// This kfwd binary, which runs the daemon and the demo's relay.
    static var executable: String { URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path }

    /// A message as a line of its own: capitalised.
    static func sentence(_ message: String) {
        self.line(message.prefix(1).uppercased() + message.dropFirst())
    }

    static func line(_ text: String) {
        print(text)
        fflush(nil)
    }

    static func warning(_ text: String) {
        FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data("error: \(text)\n".utf8))
    }
}
