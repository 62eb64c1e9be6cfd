import Foundation

/// One line of what a forward did, in the words `kfwd up` prints and `kfwd logs` shows: the
/// difference between two of its statuses, so that every reader tells the same story.
public struct StatusLine: Sendable, Equatable, CustomStringConvertible {
    public let alias: String
    /// A failure the user should see (printed on standard error).
    public let isError: Bool
    public let message: String

    public var description: String { "\(self.alias): \(self.message)" }

    /// What changed from `previous` (nil: the forward's first status) to `status`.
    /// - Parameter spec: names the target and remote ports in the listening line.
    public static func changes(from previous: ForwardStatus?, to status: ForwardStatus, spec: ForwardSpec?) -> [StatusLine] {
        var lines: [StatusLine] = []
        func say(_ message: String, error: Bool = false) { lines.append(StatusLine(alias: status.alias, isError: error, message: message)) }
        if status.listening != previous?.listening ?? [], !status.listening.isEmpty {
            let remote = spec.map { " -> \($0.mappings.map { $0.remote.description }.joined(separator: ", ")) (\($0.target))" } ?? ""
            for socket in status.listening where !(previous?.listening.contains(socket) ?? false) {
                say("Forwarding from \(socket)\(remote)")
            }
        }
        if status.failedConnections > previous?.failedConnections ?? 0, let error = status.lastError {
            say("connection failed: \(error.message)", error: true)
        }
        if status.apiError != previous?.apiError ?? nil {
            if let error = status.apiError {
                say(ForwardEvent.apiMessage(error), error: true)
            } else {
                say("the API server is reachable again")
            }
        }
        if status.heldBack > previous?.heldBack ?? 0, let pod = status.heldBackPod {
            say(ForwardEvent.heldBackMessage(pod: pod))
        }
        if let transport = status.transport, transport != previous?.transport {
            say("transport \(transport)")
        }
        if let note = status.relayNote, note != previous?.relayNote {
            say(note)
        }
        if let note = status.kubeconfigNote, note != previous?.kubeconfigNote {
            say(note)
        }
        let failing = status.failingPods
        let failedBefore = previous?.failingPods ?? [:]
        for (pod, why) in failing.sorted(by: { $0.key < $1.key }) where failedBefore[pod] != why {
            say(ForwardEvent.healthMessage(pod: pod, failure: why), error: true)
        }
        for pod in failedBefore.keys.sorted() where failing[pod] == nil && status.pods.contains(pod) {
            say(ForwardEvent.healthMessage(pod: pod, failure: nil))
        }
        if let note = status.networkNote, note != previous?.networkNote {
            say(note)
        }
        let name = status.state.name
        let previousName = previous?.state.name
        switch status.state {
        case .serving where name == "running" && (status.pods != previous?.pods || previousName != "running"):
            say("ready, new connections go to \(status.pods.joined(separator: ", "))")
        case .serving, .starting:
            // A refused or unreachable API server was said above.
            if name == "waiting", let reason = status.state.reason, reason != status.apiError,
                reason != previous?.state.reason || previousName != "waiting"
            {
                say("waiting: \(reason.message); new connections are held until a pod is ready")
            }
        case .retrying(let reason, _, let delay) where previous?.state != status.state:
            say("\(reason.message); retrying in \(delay.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))", error: true)
        case .stopped where previousName != "stopped":
            say("stopped")
        default:
            break
        }
        return lines
    }
}
