/// The pod fields a hardened pod sets (core/v1 types.go): what it may use, who it runs as, and
/// when it is ready. kfwd sets them on the relay pods it creates.
extension Pod {
    public struct ResourceRequirements: Codable, Sendable, Equatable {
        public var requests: [String: String]?
        public var limits: [String: String]?
        public init(requests: [String: String]? = nil, limits: [String: String]? = nil) {
            self.requests = requests
            self.limits = limits
        }
    }

    public struct Capabilities: Codable, Sendable, Equatable {
        public var drop: [String]?
        public init(drop: [String]? = nil) { self.drop = drop }
    }

    public struct SecurityContext: Codable, Sendable, Equatable {
        public var runAsNonRoot: Bool?
        public var runAsUser: Int64?
        public var readOnlyRootFilesystem: Bool?
        public var allowPrivilegeEscalation: Bool?
        public var capabilities: Capabilities?
        public init(
            runAsNonRoot: Bool? = nil, runAsUser: Int64? = nil, readOnlyRootFilesystem: Bool? = nil, allowPrivilegeEscalation: Bool? = nil,
            capabilities: Capabilities? = nil
        ) {
            self.runAsNonRoot = runAsNonRoot
            self.runAsUser = runAsUser
            self.readOnlyRootFilesystem = readOnlyRootFilesystem
            self.allowPrivilegeEscalation = allowPrivilegeEscalation
            self.capabilities = capabilities
        }
    }

    public struct PodSecurityContext: Codable, Sendable, Equatable {
        public var runAsNonRoot: Bool?
        public var runAsUser: Int64?
        public var runAsGroup: Int64?
        public init(runAsNonRoot: Bool? = nil, runAsUser: Int64? = nil, runAsGroup: Int64? = nil) {
            self.runAsNonRoot = runAsNonRoot
            self.runAsUser = runAsUser
            self.runAsGroup = runAsGroup
        }
    }

    public struct TCPSocketAction: Codable, Sendable, Equatable {
        public var port: Int
        public init(port: Int) { self.port = port }
    }

    public struct ExecAction: Codable, Sendable, Equatable {
        public var command: [String]
        public init(command: [String]) { self.command = command }
    }

    public struct Probe: Codable, Sendable, Equatable {
        public var tcpSocket: TCPSocketAction?
        public var exec: ExecAction?
        public var periodSeconds: Int?
        public var timeoutSeconds: Int?
        public init(tcpSocket: TCPSocketAction? = nil, exec: ExecAction? = nil, periodSeconds: Int? = nil, timeoutSeconds: Int? = nil) {
            self.tcpSocket = tcpSocket
            self.exec = exec
            self.periodSeconds = periodSeconds
            self.timeoutSeconds = timeoutSeconds
        }
    }
}
