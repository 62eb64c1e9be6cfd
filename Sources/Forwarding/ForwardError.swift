import KubeClient

/// A forward that cannot start, must stop, or waits: what went wrong as a ``Code`` to branch on,
/// a one-line ``message`` that names the thing (port, pod, context), and the ``fix`` when there
/// is one. Long library text (TLS, NIOSSL) is kept out of the message: ``detail`` holds it for the
/// log.
public struct ForwardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, as the event stream, `kfwd status -o json` and `/metrics` name it.
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// A local port is held by another process (the message names it when the system says).
        case portBusy = "port_busy"
        /// A local address or port cannot be bound for another reason.
        case bindFailed = "bind_failed"
        /// The spec itself is wrong (a target, port or field that cannot be).
        case invalidSpec = "invalid_spec"
        /// The kubeconfig is missing, malformed, or lacks the context named.
        case kubeconfig
        /// Credentials could not be obtained (an exec plugin missing or failing, a token file
        /// unreadable).
        case credentials
        /// The API server cannot be reached (refused, TLS failure, timeout).
        case clusterUnreachable = "cluster_unreachable"
        /// The API server rejected the credentials (401).
        case unauthorized
        /// The credentials may not do what the forward needs (403).
        case forbidden
        case namespaceMissing = "namespace_missing"
        case serviceMissing = "service_missing"
        case deploymentMissing = "deployment_missing"
        case podMissing = "pod_missing"
        /// The target has no such port.
        case portMissing = "port_missing"
        /// The target exists but no pod of it is ready.
        case noReadyPod = "no_ready_pod"
        case podUnhealthy = "pod_unhealthy"
        /// The relay pod UDP and address forwards go through cannot be deployed or started.
        case relay
        /// Another forward of the same alias runs.
        case alreadyRunning = "already_running"
        /// kfwd is shutting down.
        case stopping
        /// Anything else; the message says what.
        case other
    }

    public let code: Code
    /// One line for people: what happened, with the names needed to act on it.
    public let message: String
    /// What to do about it, when the message does not already say.
    public var fix: String?
    /// The library's own long description, for the log only.
    public var detail: String?

    public init(code: Code, _ message: String, fix: String? = nil, detail: String? = nil) {
        self.code = code
        let line = ErrorSummary.oneLine(message)
        self.message = line
        self.fix = fix
        self.detail = detail ?? (line == message ? nil : message)
    }

    /// A failure with no more specific code.
    public init(_ message: String) {
        self.init(code: .other, message)
    }

    /// A Kubernetes client failure, coded by what the user must do about it.
    public init(_ error: KubeError) {
        let code: Code =
            switch error.code {
            case .config: .kubeconfig
            case .credentials: .credentials
            case .transport: .clusterUnreachable
            case .decoding: .other
            case .api:
                switch error.httpStatus {
                case 401: .unauthorized
                case 403: .forbidden
                default: error.reason == "NotFound" || error.httpStatus == 404 ? .other : .clusterUnreachable
                }
            }
        self.init(code: code, error.message, fix: code == .forbidden ? AccessCheck(refusal: error.message)?.fix : nil)
    }

    /// A port-forward stream failure, coded the same way.
    public init(_ error: PortForwardError) {
        let code: Code =
            switch error.kind {
            case .podNotFound: .podMissing
            case .podNotRunning: .noReadyPod
            case .portNotListening: .portMissing
            case .forbidden: .forbidden
            case .unauthorized: .unauthorized
            case .transport: .clusterUnreachable
            case .configuration: .kubeconfig
            case .rejected, .remote, .protocolViolation: .other
            }
        self.init(code: code, error.message, fix: code == .forbidden ? AccessCheck(refusal: error.message)?.fix : nil)
    }

    /// Whether waiting cannot help: the user must change something (credentials, rights, the
    /// kubeconfig), so connections held for a pod are refused at once, as kubectl refuses them.
    public var needsUser: Bool {
        switch self.code {
        case .kubeconfig, .credentials, .unauthorized, .forbidden, .invalidSpec: true
        default: false
        }
    }

    public var description: String { self.message }
}
