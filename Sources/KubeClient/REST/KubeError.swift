/// Every failure KubeClient reports: what went wrong, where (context, resource), the Kubernetes
/// `Status` when the server sent one, and what the user can do about it.
public struct KubeError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; branch on this, not on the message.
    public enum Code: Sendable, Equatable {
        /// The kubeconfig is missing, malformed, or names something that does not exist.
        case config
        /// Credentials could not be obtained (token file unreadable, exec plugin failed).
        case credentials
        /// The server could not be reached (connection refused, TLS failure, timeout).
        case transport
        /// The server answered with an API error; ``KubeError/status`` holds its details.
        case api
        /// The server's answer could not be decoded.
        case decoding
    }

    public let code: Code
    /// What happened, with the names a user needs to act on it.
    public let message: String
    /// The HTTP status for API errors.
    public var httpStatus: Int?
    /// The `Status.reason` (`NotFound`, `Forbidden`, `Expired`...), or nil.
    public var reason: String?
    /// `Retry-After` or `details.retryAfterSeconds`, when the server gave one.
    public var retryAfterSeconds: Int?

    public var description: String { self.message }

    static func config(_ message: String) -> KubeError { KubeError(code: .config, message: message) }
    static func credentials(_ message: String) -> KubeError { KubeError(code: .credentials, message: message) }
    static func transport(_ message: String) -> KubeError { KubeError(code: .transport, message: message) }
    static func decoding(_ message: String) -> KubeError { KubeError(code: .decoding, message: message) }

    /// True for 410 Gone / `Expired`: the resourceVersion is too old and the client must relist.
    public var isExpired: Bool { self.httpStatus == 410 || self.reason == "Expired" || self.reason == "Gone" }
    public var isNotFound: Bool { self.httpStatus == 404 }
    public var isUnauthorized: Bool { self.httpStatus == 401 }
}

/// A Kubernetes `Status` object (apimachinery pkg/apis/meta/v1/types.go).
public struct Status: Codable, Sendable {
    public struct Details: Codable, Sendable {
        public var name: String?
        public var kind: String?
        public var retryAfterSeconds: Int?
    }

    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?
    public var details: Details?
}
