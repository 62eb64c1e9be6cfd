import Forwarding
import Foundation
import GRDB

/// A saved forward: what it runs (``spec``, kfwd's own config, when it was saved natively;
/// else its kftray entry), its kftray entry (``config``: the fields of kftray's JSON format,
/// kept as imported, or made from the native config where kftray can hold it), the alias that
/// names it, whether the daemon starts it by itself, and when it was made and changed.
public struct StoredForward: Sendable, Equatable, Identifiable {
    public var id: Int64?
    public var alias: String
    public var config: KftrayConfig
    /// kfwd's own config; nil for a forward imported from kftray (or saved before kfwd had one),
    /// which runs as its kftray entry says.
    public var spec: ForwardConfig?
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

    /// A forward saved in kfwd's own terms; its kftray entry is made from it where kftray's
    /// format can hold it (else alias and namespace only, and export leaves it out).
    public init(alias: String, spec: ForwardConfig, autoStart: Bool = false, now: Date = Date()) {
        var kftray = spec.kftray(alias: alias) ?? KftrayConfig()
        kftray.namespace = kftray.namespace ?? spec.namespace
        self.init(alias: alias, config: kftray, autoStart: autoStart, now: now)
        self.spec = spec
    }

    /// What the forward runs: its own config, else its kftray entry's meaning.
    /// - Throws: ``ForwardError`` when the kftray entry is one kfwd cannot run.
    public func native() throws(ForwardError) -> ForwardConfig {
        if let spec = self.spec { return spec }
        return try ForwardConfig(kftray: self.config)
    }

    /// Its tags (none for a kftray entry kfwd cannot run).
    public var tags: [String] { (try? self.native().tags) ?? [] }

    /// Whether it carries any of `tags` (what `--tag` selects).
    public func isTagged(withAnyOf tags: [String]) -> Bool {
        self.tags.contains(where: tags.contains)
    }

    /// The kftray entry to export; nil when kftray's format cannot hold this forward.
    public var exportable: KftrayConfig? {
        guard let spec = self.spec else { return self.config }
        return spec.kftray(alias: self.alias)
    }
}

extension StoredForward: Codable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "forward"

    enum CodingKeys: String, CodingKey {
        case id, alias, config, spec
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
