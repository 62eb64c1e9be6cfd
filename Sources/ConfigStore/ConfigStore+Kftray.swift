import Foundation
import GRDB

/// What an import did, by alias.
public struct ImportSummary: Codable, Sendable, Equatable {
    public var added: [String]
    public var updated: [String]
    public var unchanged: [String]

    public init(added: [String] = [], updated: [String] = [], unchanged: [String] = []) {
        self.added = added
        self.updated = updated
        self.unchanged = unchanged
    }
}

extension ConfigStore {
    /// Imports a kftray JSON export, merging as kftray does: an entry that matches a saved
    /// forward (same context, namespace, workload and protocol, and the same service — and
    /// ports, when both have a local port — target selector or remote address) updates it in
    /// place, keeping its alias and local port when the entry has none; an identical one is
    /// left alone; any other is added.
    ///
    /// All or nothing: every entry is checked first, and one that is invalid (or whose alias
    /// another forward has) rejects the whole file, with a problem per entry and field.
    /// - Parameter dryRun: say what the import would do, and change nothing.
    public func importKftray(_ data: Data, dryRun: Bool = false) throws(ConfigStoreError) -> ImportSummary {
        let file: KftrayFile
        do { file = try KftrayFile(data: data) } catch { throw ConfigStoreError(error.message) }
        var problems: [String] = []
        var configs: [(index: Int, config: KftrayConfig)] = []
        for entry in file.entries {
            switch entry.config {
            case .failure(let error):
                problems.append(error.message)
            case .success(let config):
                problems += config.problems.map { "entry \(entry.index) (\(config.effectiveAlias)): \($0)" }
                configs.append((entry.index, config))
            }
        }
        guard problems.isEmpty else { throw ConfigStoreError(problems) }
        return try self.write(dryRun: dryRun) { db in
            var summary = ImportSummary()
            var problems: [String] = []
            // Read once and kept up to date: entries match forwards added by earlier entries too.
            var saved = try StoredForward.order(Column("id")).fetchAll(db)
            for (index, incoming) in configs {
                if let position = saved.firstIndex(where: { Self.matches($0.config, incoming) }) {
                    var existing = saved[position]
                    var merged = incoming
                    merged.id = nil
                    if (merged.alias ?? "").isEmpty { merged.alias = existing.alias }
                    if (merged.localPort ?? 0) == 0, let port = existing.config.localPort { merged.localPort = port }
                    let alias = merged.effectiveAlias
                    if merged == existing.config {
                        summary.unchanged.append(alias)
                        continue
                    }
                    if alias != existing.alias, saved.contains(where: { $0.alias == alias }) {
                        problems.append("entry \(index) (\(alias)): another forward is named '\(alias)'")
                        continue
                    }
                    merged.alias = alias
                    existing.alias = alias
                    existing.config = merged
                    existing.updatedAt = Date()
                    try existing.update(db)
                    saved[position] = existing
                    summary.updated.append(alias)
                } else {
                    let alias = incoming.effectiveAlias
                    if saved.contains(where: { $0.alias == alias }) {
                        problems.append("entry \(index) (\(alias)): another forward is named '\(alias)' (give this entry its own alias)")
                        continue
                    }
                    var forward = StoredForward(alias: alias, config: incoming)
                    try forward.insert(db)
                    saved.append(forward)
                    summary.added.append(alias)
                }
            }
            // Rolls the transaction back: nothing of the file is kept.
            if !problems.isEmpty { throw ConfigStoreError(problems) }
            return summary
        }
    }

    /// The saved forwards as a kftray JSON export (no ids; every entry with its alias), in the
    /// order they were added, and the aliases of those kftray's format cannot hold (a
    /// Deployment, a pod by name, several ports, kfwd's own settings), left out. Importing the
    /// export into an empty store gives the same forwards back.
    public func exportKftray() throws(ConfigStoreError) -> (data: Data, left: [String]) {
        let forwards = try self.forwards()
        let configs = forwards.compactMap(\.exportable)
        let left = forwards.filter { $0.exportable == nil }.map(\.alias)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { return (try encoder.encode(configs), left) } catch { throw ConfigStoreError("cannot write the export: \(error)") }
    }

    /// kftray's merge key (section 1.3 of kftray.md).
    static func matches(_ saved: KftrayConfig, _ incoming: KftrayConfig) -> Bool {
        guard saved.namedContext == incoming.namedContext, saved.namespace == incoming.namespace,
            saved.workloadType == incoming.workloadType, (saved.protocol ?? "tcp").lowercased() == (incoming.protocol ?? "tcp").lowercased()
        else { return false }
        switch incoming.workloadType {
        case "service":
            guard saved.service == incoming.service else { return false }
            if let local = saved.localPort, let other = incoming.localPort, local != 0, other != 0 {
                return local == other && saved.remotePort == incoming.remotePort
            }
            return true
        case "pod":
            return saved.target == incoming.target
        case "proxy":
            return saved.remoteAddress == incoming.remoteAddress
        default:
            return saved.alias == incoming.alias
        }
    }
}
