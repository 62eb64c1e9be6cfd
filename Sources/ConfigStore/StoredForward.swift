import Foundation
import GRDB

/// A saved forward: its kftray config (the fields of kftray's JSON format, kept as given), the
/// alias that names it, whether the daemon starts it by itself, and when it was made and changed.
public struct StoredForward: Sendable, Equatable, Identifiable {
    public var id: Int64?
    public var alias: String
    public var config: KftrayConfig
    public var autoStart: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(alias: String, config: KftrayConfig, autoStart: Bool = false, now: Date = Date()) {
        self.alias = alias
        var config = config
        config.id = nil
        config.alias = alias
        self.config = config
        self.autoStart = autoStart
        self.createdAt = now
        self.updatedAt = now
    }
}

extension StoredForward: Codable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "forward"

    enum CodingKeys: String, CodingKey {
        case id, alias, config
        case autoStart = "auto_start"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public enum Columns {
        static let alias = Column(CodingKeys.alias)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        self.id = inserted.rowID
    }
}
