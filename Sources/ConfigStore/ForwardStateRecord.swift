import Foundation
import GRDB

/// What a running forward is doing, written by the process that runs it (the daemon), so that
/// a reader can tell a live forward from one left behind by a process that died.
public struct ForwardStateRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "forward_state"

    public var forwardID: Int64
    /// The process that runs the forward; a row whose process is gone is stale.
    public var ownerPID: Int32
    /// `running`, `waiting`, `retrying`, `stopped`, `error`.
    public var status: String
    /// The pods new connections go to, as JSON.
    public var pods: [String]
    public var since: Date
    public var lastError: String?
    public var retryCount: Int
    /// Bytes both ways since the forward started, as of its last state change.
    public var bytes: Int64
    public var connections: Int64

    enum CodingKeys: String, CodingKey {
        case status, pods, since, bytes, connections
        case forwardID = "forward_id"
        case ownerPID = "owner_pid"
        case lastError = "last_error"
        case retryCount = "retry_count"
    }

    public init(
        forwardID: Int64, ownerPID: Int32, status: String, pods: [String] = [], since: Date = Date(), lastError: String? = nil, retryCount: Int = 0,
        bytes: Int64 = 0, connections: Int64 = 0
    ) {
        self.forwardID = forwardID
        self.ownerPID = ownerPID
        self.status = status
        self.pods = pods
        self.since = since
        self.lastError = lastError
        self.retryCount = retryCount
        self.bytes = bytes
        self.connections = connections
    }
}
