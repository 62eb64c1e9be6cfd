import Foundation

/// What `kfwd doctor` found for one forward: each check in the order a forward depends on them,
/// and whether the forward would work.
public struct DoctorReport: Sendable, Codable, Equatable {
    /// One line of the report.
    public struct Check: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable {
            /// Works.
            case pass
            /// Works, at a cost or with something worth knowing.
            case warn
            /// Stops the forward; ``fix`` says what to do.
            case fail
            /// Not checked: an earlier check failed, or it does not apply.
            case skip
        }

        /// `kubeconfig`, `credentials`, `api`, `namespace`, `permissions`, `target`,
        /// `transport`, `local_port`, `relay`.
        public let check: String
        public let status: Status
        public let detail: String
        public let fix: String?

        public init(_ check: String, _ status: Status, _ detail: String, fix: String? = nil) {
            self.check = check
            self.status = status
            self.detail = detail
            self.fix = fix
        }
    }

    /// The forward's alias, or the target as given.
    public let forward: String
    public let target: String
    /// How the forward would follow its pods: `watch`, `poll`, or nil when not known.
    public var mode: String?
    /// The transport `auto` would settle on, when one was tried.
    public var transport: String?
    public var checks: [Check]

    /// True when no check failed.
    public var ok: Bool { !self.checks.contains { $0.status == .fail } }

    enum CodingKeys: String, CodingKey {
        case forward, target, mode, transport, checks, ok
    }

    public init(forward: String, target: String, checks: [Check] = []) {
        self.forward = forward
        self.target = target
        self.checks = checks
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.forward = try container.decode(String.self, forKey: .forward)
        self.target = try container.decode(String.self, forKey: .target)
        self.mode = try container.decodeIfPresent(String.self, forKey: .mode)
        self.transport = try container.decodeIfPresent(String.self, forKey: .transport)
        self.checks = try container.decode([Check].self, forKey: .checks)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.forward, forKey: .forward)
        try container.encode(self.target, forKey: .target)
        try container.encodeIfPresent(self.mode, forKey: .mode)
        try container.encodeIfPresent(self.transport, forKey: .transport)
        try container.encode(self.checks, forKey: .checks)
        try container.encode(self.ok, forKey: .ok)
    }
}
