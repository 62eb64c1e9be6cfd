/// Why a port-forward stream could not be opened or ended badly. Branch on ``kind``; the
/// ``message`` names the pod, port and context a user needs to act.
public struct PortForwardError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The pod does not exist (404, or the runtime no longer knows it).
        case podNotFound
        /// The pod exists but cannot be forwarded to: not scheduled, not running, or finished.
        case podNotRunning
        /// Nothing in the pod listens on the port: the runtime's dial was refused.
        case portNotListening
        /// The credentials may not use `pods/portforward` (403), or the server refused the
        /// subprotocol.
        case forbidden
        /// The credentials were rejected (401) even after a refresh.
        case unauthorized
        /// Another refusal of the upgrade (the HTTP status says which).
        case rejected
        /// The pod's side reported another error on the error channel.
        case remote
        /// The server broke the protocol (bad port prefix, unknown channel, bad handshake).
        case protocolViolation
        /// The API server could not be reached or the connection broke.
        case transport
        /// The kubeconfig or credentials could not be used.
        case configuration
    }

    public let kind: Kind
    public let message: String
    /// The HTTP status of a refused upgrade.
    public var httpStatus: Int?

    public init(kind: Kind, message: String, httpStatus: Int? = nil) {
        self.kind = kind
        self.message = message
        self.httpStatus = httpStatus
    }

    public var description: String { self.message }

    /// `error` as a port-forward error: itself when it is one (a failed future carries it as
    /// `any Error`), else a transport failure that names it.
    public static func from(_ error: any Error) -> PortForwardError {
        error as? PortForwardError ?? PortForwardError(kind: .transport, message: "\(error)")
    }

    /// True when the failure proves the pod never received any of the stream's bytes, so the
    /// same bytes may be sent to another pod.
    public var backendNeverSawData: Bool {
        switch self.kind {
        case .podNotFound, .podNotRunning, .portNotListening, .forbidden, .unauthorized, .rejected, .configuration: true
        case .remote, .protocolViolation, .transport: false
        }
    }

    /// Classifies the runtime's error-channel text (containerd/CRI-O wording varies; these are
    /// the phrases they share).
    static func fromErrorChannel(_ text: String, pod: String, namespace: String, port: Int) -> PortForwardError {
        let lowered = text.lowercased()
        let kind: Kind
        if lowered.contains("connection refused") || lowered.contains("connect: ") {
            kind = .portNotListening
        } else if lowered.contains("not found") || lowered.contains("no such") {
            kind = .podNotFound
        } else if lowered.contains("not running") {
            kind = .podNotRunning
        } else {
            kind = .remote
        }
        let summary: String
        switch kind {
        case .portNotListening: summary = "nothing listens on port \(port) in pod \(namespace)/\(pod)"
        case .podNotFound: summary = "pod \(namespace)/\(pod) is gone"
        case .podNotRunning: summary = "pod \(namespace)/\(pod) is not running"
        default: summary = "forwarding to port \(port) of pod \(namespace)/\(pod) failed"
        }
        return PortForwardError(kind: kind, message: "\(summary): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
}
