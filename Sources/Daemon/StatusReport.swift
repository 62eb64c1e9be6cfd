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
        public var connections: Int
        public var transport: String?
        /// The local sockets it listens on (`127.0.0.1:8080`).
        public var listening: [String]

        enum CodingKeys: String, CodingKey {
            case alias, status, pods, since, retries, connections, transport, listening
            case lastError = "last_error"
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

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
