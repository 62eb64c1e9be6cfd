import ChannelGlue
import Forwarding
import KubeClient
import Foundation

/// What `kfwd status --json` prints and the control API's `GET /v1/status` answers.
public struct StatusReport: Codable, Sendable, Equatable {
    public struct DaemonInfo: Codable, Sendable, Equatable {
        public var pid: Int32?
        public var running: Bool

        public init(pid: Int32?, running: Bool) {
            self.pid = pid
            self.running = running
        }

        /// `pid` is written as null when no daemon runs, so that scripts always find the key.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.pid, forKey: .pid)
            try container.encode(self.running, forKey: .running)
        }
    }

    public struct Forward: Codable, Sendable, Equatable {
        public var alias: String
        /// `starting`, `running`, `waiting`, `degraded`, `retrying`, `stopping` or `stopped`
        /// (``ForwardLifecycle/State/name``).
        public var status: String
        /// Why it is not simply running: what it waits for, why it retries, why the API
        /// server cannot be reached.
        public var reason: String?
        /// ``ForwardError/Code`` of the reason, to branch on.
        public var code: String?
        /// What to do about the reason, when kfwd knows.
        public var fix: String?
        /// Seconds between a failed run and the next try (retrying only).
        public var retryDelay: Double?
        /// The pods new connections go to now.
        public var pods: [String]
        public var since: Date?
        /// The last failure since the forward was last healthy; cleared when it is.
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
        /// The pods in use that fail their probe, with why: they get no new connections while
        /// another pod passes.
        public var failingPods: [String: String] = [:]
        /// How it follows its pods when the user's rights allow no watch: by polling, and what
        /// is not allowed (absent when it watches).
        public var following: String?

        enum CodingKeys: String, CodingKey {
            case alias, status, reason, code, fix, pods, since, retries, connections, reconnects, transport, listening, following
            case retryDelay = "retry_delay_seconds"
            case lastError = "last_error"
            case failedConnections = "failed_connections"
            case bytesToCluster = "bytes_to_cluster"
            case bytesFromCluster = "bytes_from_cluster"
            case failingPods = "failing_pods"
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
            self.reason = try container.decodeIfPresent(String.self, forKey: .reason)
            self.code = try container.decodeIfPresent(String.self, forKey: .code)
            self.fix = try container.decodeIfPresent(String.self, forKey: .fix)
            self.retryDelay = try container.decodeIfPresent(Double.self, forKey: .retryDelay)
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
            self.failingPods = try container.decodeIfPresent([String: String].self, forKey: .failingPods) ?? [:]
            self.following = try container.decodeIfPresent(String.self, forKey: .following)
        }
    }

    public var daemon: DaemonInfo
    public var forwards: [Forward]

    public init(daemon: DaemonInfo, forwards: [Forward]) {
        self.daemon = daemon
        self.forwards = forwards
    }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// One line, for server-sent events and API answers.
    public static let compactEncoder: JSONEncoder = {
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

extension StatusReport.Forward {
    /// What a live forward is doing: the one mapping of ``ForwardStatus`` that `kfwd status`,
    /// the control API, the dashboard, `/metrics` and the store's state rows all read.
    public init(_ status: ForwardStatus, traffic: TrafficCounter?) {
        self.init(
            alias: status.alias, status: status.state.name, pods: status.pods, since: status.since, lastError: status.lastError?.message,
            retries: status.retries, connections: status.connections, failedConnections: status.failedConnections, reconnects: status.reconnects,
            bytesToCluster: traffic?.bytesToCluster ?? 0, bytesFromCluster: traffic?.bytesFromCluster ?? 0, transport: status.transport,
            listening: status.listening.map(\.description)
        )
        self.failingPods = status.failingPods
        self.following = status.followNote
        let reason = status.state.reason
        self.reason = reason?.message
        self.code = reason?.code.rawValue
        self.fix = reason?.fix
        if case .retrying(_, _, let delay) = status.state {
            self.retryDelay = delay.inSeconds
        }
    }
}
