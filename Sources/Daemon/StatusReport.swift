import Foundation

/// What `kfwd status --json` prints and the control API's `GET /v1/status` answers.
public struct StatusReport: Codable, Sendable, Equatable {
    public struct DaemonInfo: Codable, Sendable, Equatable {
        public var pid: Int32?
        public var running: Bool

        /// `pid` is written as null when no daemon runs, so that scripts always find the key.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.pid, forKey: .pid)
            try container.encode(self.running, forKey: .running)
        }
    }

    public struct Forward: Codable, Sendable, Equatable {
        public var alias: String
        /// `running`, `starting`, `waiting`, `retrying` or `stopped`.
        public var status: String
        public var pods: [String]
        public var since: Date?
        public var lastError: String?
        public var retries: Int
        /// Local connections accepted since the forward started.
        public var connections: Int
        /// Of those, the ones that could not be forwarded or ended in an error.
        public var failedConnections: Int
        /// Times it moved to other pods or restarted after a failure (``ForwardStatus/reconnects``).
        public var reconnects: Int
        /// Bytes local clients sent since the forward started.
        public var bytesToCluster: Int64
        /// Bytes the cluster sent back.
        public var bytesFromCluster: Int64
        public var transport: String?
        /// The local sockets it listens on (`127.0.0.1:8080`).
        public var listening: [String]

        enum CodingKeys: String, CodingKey {
            case alias, status, pods, since, retries, connections, reconnects, transport, listening
            case lastError = "last_error"
            case failedConnections = "failed_connections"
            case bytesToCluster = "bytes_to_cluster"
            case bytesFromCluster = "bytes_from_cluster"
        }

        public init(
            alias: String, status: String = "stopped", pods: [String] = [], since: Date? = nil, lastError: String? = nil, retries: Int = 0,
            connections: Int = 0, failedConnections: Int = 0, reconnects: Int = 0, bytesToCluster: Int64 = 0, bytesFromCluster: Int64 = 0,
            transport: String? = nil, listening: [String] = []
        ) {
            self.alias = alias
            self.status = status
            self.pods = pods
            self.since = since
            self.lastError = lastError
            self.retries = retries
            self.connections = connections
            self.failedConnections = failedConnections
            self.reconnects = reconnects
            self.bytesToCluster = bytesToCluster
            self.bytesFromCluster = bytesFromCluster
            self.transport = transport
            self.listening = listening
        }

        /// Reports written before the traffic fields existed still read.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(alias: try container.decode(String.self, forKey: .alias))
            self.status = try container.decode(String.self, forKey: .status)
            self.pods = try container.decodeIfPresent([String].self, forKey: .pods) ?? []
            self.since = try container.decodeIfPresent(Date.self, forKey: .since)
            self.lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
            self.retries = try container.decodeIfPresent(Int.self, forKey: .retries) ?? 0
            self.connections = try container.decodeIfPresent(Int.self, forKey: .connections) ?? 0
            self.failedConnections = try container.decodeIfPresent(Int.self, forKey: .failedConnections) ?? 0
            self.reconnects = try container.decodeIfPresent(Int.self, forKey: .reconnects) ?? 0
            self.bytesToCluster = try container.decodeIfPresent(Int64.self, forKey: .bytesToCluster) ?? 0
            self.bytesFromCluster = try container.decodeIfPresent(Int64.self, forKey: .bytesFromCluster) ?? 0
            self.transport = try container.decodeIfPresent(String.self, forKey: .transport)
            self.listening = try container.decodeIfPresent([String].self, forKey: .listening) ?? []
        }
    }

    public var daemon: DaemonInfo
    public var forwards: [Forward]

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// One line, for server-sent events and API answers.
    static let compactEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
