import Forwarding
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// kfwd's saved forwards, settings and runtime state, in SQLite (WAL, so that the daemon and
/// the CLI can use it at once). Every change is one transaction: a store is never half-written,
/// whatever kills the process mid-write.
public final class ConfigStore: Sendable {
    private let database: DatabasePool
    public let path: String

    /// Opens (creating when needed, with its directory, mode 0700) and migrates the store.
    /// - Throws: ``ConfigStoreError`` naming the file and what is wrong with it.
    public init(path: String) throws(ConfigStoreError) {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var configuration = Configuration()
            // The CLI and the daemon write at once: wait for the other's transaction, do not fail.
            configuration.busyMode = .timeout(10)
            configuration.foreignKeysEnabled = true
            self.database = try DatabasePool(path: path, configuration: configuration)
            // Two processes opening a new store at once would both find it unmigrated: one
            // migrates while the other waits on a lock beside the file.
            try Self.withFileLock(path + ".migrating") { try Self.migrator.migrate(self.database) }
        } catch {
            throw ConfigStoreError("cannot open the store \(path): \(error)")
        }
    }

    /// Opens the store at ``StoreLocation/databasePath(environment:)``.
    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigStoreError) {
        try self.init(path: StoreLocation.databasePath(environment: environment))
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "forward") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("alias", .text).notNull().unique()
                table.column("config", .jsonText).notNull()
                table.column("auto_start", .boolean).notNull().defaults(to: false)
                table.column("created_at", .datetime).notNull()
                table.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "setting") { table in
                table.primaryKey("key", .text)
                table.column("value", .jsonText).notNull()
            }
            try db.create(table: "forward_state") { table in
                table.primaryKey("forward_id", .integer).references("forward", onDelete: .cascade)
                table.column("owner_pid", .integer).notNull()
                table.column("status", .text).notNull()
                table.column("pods", .jsonText).notNull()
                table.column("since", .datetime).notNull()
                table.column("last_error", .text)
                table.column("retry_count", .integer).notNull()
                table.column("bytes", .integer).notNull()
                table.column("connections", .integer).notNull()
            }
        }
        // kfwd's own config of a forward, beside its kftray entry (nil: the entry says it all).
        migrator.registerMigration("v2-native-config") { db in
            try db.alter(table: "forward") { table in table.add(column: "spec", .jsonText) }
        }
        return migrator
    }

    private static func withFileLock(_ path: String, _ body: () throws -> Void) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ConfigStoreError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ConfigStoreError("cannot lock \(path): \(String(cString: strerror(errno)))") }
        }
        defer { flock(descriptor, LOCK_UN) }
        try body()
    }

    // MARK: forwards

    /// Every saved forward, in the order they were added.
    public func forwards() throws(ConfigStoreError) -> [StoredForward] {
        try self.read { db in try StoredForward.order(Column("id")).fetchAll(db) }
    }

    public func forward(alias: String) throws(ConfigStoreError) -> StoredForward? {
        try self.read { db in try StoredForward.filter(StoredForward.Columns.alias == alias).fetchOne(db) }
    }

    /// Saves a new forward from a kftray entry, after checking it as an import checks each entry.
    /// - Throws: ``ConfigStoreError`` naming the field, or the alias when another forward has it.
    @discardableResult
    public func add(_ config: KftrayConfig, alias: String, autoStart: Bool = false) throws(ConfigStoreError) -> StoredForward {
        let problems = config.problems
        guard problems.isEmpty else { throw ConfigStoreError(problems.map { "\(alias): \($0)" }) }
        return try self.insert(StoredForward(alias: alias, config: config, autoStart: autoStart))
    }

    /// Saves a new forward in kfwd's own terms, checked as every forward is
    /// (``ForwardConfig/forwardSpec(alias:podWait:transport:)``).
    /// - Throws: ``ConfigStoreError`` saying what is wrong, or the alias when another forward has it.
    @discardableResult
    public func add(_ spec: ForwardConfig, alias: String, autoStart: Bool = false) throws(ConfigStoreError) -> StoredForward {
        do throws(ForwardError) { _ = try spec.forwardSpec(alias: alias) } catch { throw ConfigStoreError("\(alias): \(error.message)") }
        return try self.insert(StoredForward(alias: alias, spec: spec, autoStart: autoStart))
    }

    /// Saves a forward in kfwd's own terms under `alias`, replacing the one saved there (it keeps
    /// its id, creation time and auto-start), checked as ``add(_:alias:autoStart:)`` checks.
    @discardableResult
    public func save(_ spec: ForwardConfig, alias: String) throws(ConfigStoreError) -> StoredForward {
        do throws(ForwardError) { _ = try spec.forwardSpec(alias: alias) } catch { throw ConfigStoreError("\(alias): \(error.message)") }
        return try self.write { db in
            let fresh = StoredForward(alias: alias, spec: spec, autoStart: false)
            guard var existing = try StoredForward.filter(StoredForward.Columns.alias == alias).fetchOne(db) else {
                var inserted = fresh
                try inserted.insert(db)
                return inserted
            }
            existing.config = fresh.config
            existing.spec = fresh.spec
            existing.updatedAt = Date()
            try existing.update(db)
            return existing
        }
    }

    /// What saving a group changed.
    public struct GroupChange: Sendable, Equatable {
        public var added: [String] = []
        public var changed: [String] = []
        public var unchanged: [String] = []
        public var removed: [String] = []

        /// `added a; changed b; removed c`, or `no change`.
        public var summary: String {
            let parts = [("added", self.added), ("changed", self.changed), ("removed", self.removed)].filter { !$0.1.isEmpty }
                .map { "\($0.0) \($0.1.joined(separator: ", "))" }
            return parts.isEmpty ? "no change" : parts.joined(separator: "; ")
        }
    }

    /// The aliases of the forwards `group` owns.
    public func members(of group: String) throws(ConfigStoreError) -> [String] {
        try self.forwards().filter { (try? $0.native().group) == group }.map(\.alias)
    }

    /// The members of `group` that saving it with `forwards` removes: stopped first by whoever
    /// saves the group (`kfwd start --project`, a sync pull, the TUI's import).
    public func leaving(_ group: String, for forwards: [(alias: String, config: ForwardConfig)]) throws(ConfigStoreError) -> [String] {
        let wanted = Set(forwards.map(\.alias))
        return try self.members(of: group).filter { !wanted.contains($0) }
    }

    /// Makes the forwards of `group` exactly `forwards`, in one transaction: new ones added,
    /// changed ones replaced, the group's others removed. A forward saved outside the group
    /// under one of the aliases is left alone, and the save refused.
    /// - Parameter dryRun: say what would change, and change nothing.
    @discardableResult
    public func replaceGroup(_ group: String, with forwards: [(alias: String, config: ForwardConfig)], dryRun: Bool = false) throws(ConfigStoreError) -> GroupChange {
        for (alias, config) in forwards {
            do throws(ForwardError) { _ = try config.forwardSpec(alias: alias) } catch { throw ConfigStoreError("\(alias): \(error.message)") }
        }
        return try self.write(dryRun: dryRun) { db in
            var change = GroupChange()
            let saved = try StoredForward.fetchAll(db)
            let members = saved.filter { (try? $0.native().group) == group }
            for (alias, config) in forwards {
                var config = config
                config.group = group
                let fresh = StoredForward(alias: alias, spec: config, autoStart: false)
                if var existing = saved.first(where: { $0.alias == alias }) {
                    guard members.contains(where: { $0.alias == alias }) else {
                        throw ConfigStoreError("a forward named '\(alias)' is saved outside group \(group): rename one of them (kfwd rm \(alias) removes the saved one)")
                    }
                    if existing.spec == fresh.spec {
                        change.unchanged.append(alias)
                        continue
                    }
                    existing.config = fresh.config
                    existing.spec = fresh.spec
                    existing.updatedAt = Date()
                    try existing.update(db)
                    change.changed.append(alias)
                } else {
                    var inserted = fresh
                    try inserted.insert(db)
                    change.added.append(alias)
                }
            }
            for member in members where !forwards.contains(where: { $0.alias == member.alias }) {
                _ = try member.delete(db)
                change.removed.append(member.alias)
            }
            return change
        }
    }

    private func insert(_ forward: StoredForward) throws(ConfigStoreError) -> StoredForward {
        try self.write { db in
            let alias = forward.alias
            if try StoredForward.filter(StoredForward.Columns.alias == alias).fetchCount(db) > 0 {
                throw ConfigStoreError("a forward named '\(alias)' already exists: choose another alias, or remove it first (kfwd rm \(alias))")
            }
            var forward = forward
            try forward.insert(db)
            return forward
        }
    }

    /// Replaces a saved forward's config (and its alias, when the config names another one),
    /// checked as ``add(_:alias:autoStart:)`` checks a new one; it keeps its id and creation time.
    /// - Throws: ``ConfigStoreError`` naming the field, a missing forward, or an alias another has.
    @discardableResult
    public func replace(alias: String, with config: KftrayConfig, autoStart: Bool) throws(ConfigStoreError) -> StoredForward {
        let newAlias = config.alias.flatMap { $0.isEmpty ? nil : $0 } ?? alias
        let problems = config.problems
        guard problems.isEmpty else { throw ConfigStoreError(problems.map { "\(newAlias): \($0)" }) }
        return try self.write { db in
            guard var forward = try StoredForward.filter(StoredForward.Columns.alias == alias).fetchOne(db) else {
                throw ConfigStoreError("no forward is named '\(alias)'")
            }
            if newAlias != alias, try StoredForward.filter(StoredForward.Columns.alias == newAlias).fetchCount(db) > 0 {
                throw ConfigStoreError("a forward named '\(newAlias)' already exists: choose another alias")
            }
            let replacement = StoredForward(alias: newAlias, config: config, autoStart: autoStart)
            forward.alias = replacement.alias
            forward.config = replacement.config
            // The kftray entry given is now the whole forward.
            forward.spec = nil
            forward.autoStart = autoStart
            forward.updatedAt = Date()
            try forward.update(db)
            return forward
        }
    }

    /// Removes forwards by alias, all or none.
    /// - Throws: ``ConfigStoreError`` listing the aliases that are not saved (nothing is removed then).
    public func remove(aliases: [String]) throws(ConfigStoreError) {
        try self.write { db in
            let unknown = try aliases.filter { try StoredForward.filter(StoredForward.Columns.alias == $0).fetchCount(db) == 0 }
            guard unknown.isEmpty else {
                throw ConfigStoreError(unknown.map { "no forward is named '\($0)'" })
            }
            _ = try StoredForward.filter(aliases.contains(StoredForward.Columns.alias)).deleteAll(db)
        }
    }

    // MARK: settings

    public func settings() throws(ConfigStoreError) -> StoreSettings {
        try self.read { db in
            var object: [String: Any] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM setting") {
                let key: String = row["key"]
                let value: String = row["value"]
                object[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed])
            }
            return try JSONDecoder().decode(StoreSettings.self, from: JSONSerialization.data(withJSONObject: object))
        }
    }

    /// Replaces the settings, all in one transaction.
    public func update(_ settings: StoreSettings) throws(ConfigStoreError) {
        try self.write { db in
            let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(settings)) as? [String: Any] ?? [:]
            try db.execute(sql: "DELETE FROM setting")
            for (key, value) in object {
                let text = String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]), as: UTF8.self)
                try db.execute(sql: "INSERT INTO setting (key, value) VALUES (?, ?)", arguments: [key, text])
            }
        }
    }

    // MARK: runtime state

    /// Records what a forward is doing now (its owner writes it on every change).
    public func record(_ state: ForwardStateRecord) throws(ConfigStoreError) {
        try self.write { db in try state.upsert(db) }
    }

    public func states() throws(ConfigStoreError) -> [ForwardStateRecord] {
        try self.read { db in try ForwardStateRecord.fetchAll(db) }
    }

    /// Marks stopped every state row whose owner process is gone (a daemon that was killed):
    /// nothing shows running that is not.
    /// - Returns: the ids of the forwards whose rows were changed.
    @discardableResult
    public func markStoppedUnlessAlive(_ isAlive: @Sendable (Int32) -> Bool) throws(ConfigStoreError) -> [Int64] {
        try self.write { db in
            var changed: [Int64] = []
            for var state in try ForwardStateRecord.fetchAll(db) where state.status != "stopped" && !isAlive(state.ownerPID) {
                state.status = "stopped"
                state.pods = []
                state.since = Date()
                try state.update(db)
                changed.append(state.forwardID)
            }
            return changed
        }
    }

    // MARK: access

    func read<T>(_ body: (Database) throws -> T) throws(ConfigStoreError) -> T {
        do { return try self.database.read(body) } catch let error as ConfigStoreError { throw error } catch {
            throw ConfigStoreError("the store \(self.path) cannot be read: \(error)")
        }
    }

    /// - Parameter dryRun: roll the transaction back: what `body` returns says what it would
    ///   have done (an import's preview), and nothing is kept.
    func write<T>(dryRun: Bool = false, _ body: (Database) throws -> T) throws(ConfigStoreError) -> T {
        do {
            guard dryRun else { return try self.database.write(body) }
            return try self.database.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .rollback
                }
                guard let result else { throw ConfigStoreError("the store \(self.path) gave no answer") }
                return result
            }
        } catch let error as ConfigStoreError { throw error } catch {
            throw ConfigStoreError("the store \(self.path) cannot be written: \(error)")
        }
    }
}
