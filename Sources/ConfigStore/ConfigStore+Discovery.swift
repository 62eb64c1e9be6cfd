import Forwarding
import Foundation
import GRDB

extension ConfigStore {
    /// Saves what the cluster's Services propose (`kfwd discover --import`, the dashboard's
    /// and the TUI's discover), in one transaction: a forward saved under a proposal's alias
    /// is replaced (merged by alias), an identical one left alone, the others added.
    /// - Parameters:
    ///   - kubeconfig: the kubeconfig the saved forwards use (nil: `$KUBECONFIG`, else
    ///     `~/.kube/config`).
    ///   - dryRun: say what would change, and change nothing.
    @discardableResult
    public func save(
        _ proposals: [ServiceDiscovery.Proposal], kubeconfig: String? = nil, dryRun: Bool = false
    ) throws(ConfigStoreError) -> ImportSummary {
        let forwards = proposals.map { proposal in
            var config = proposal.config
            config.kubeconfig = kubeconfig
            return StoredForward(alias: proposal.alias, spec: config)
        }
        for forward in forwards {
            do throws(ForwardError) { _ = try forward.native().forwardSpec(alias: forward.alias) } catch {
                throw ConfigStoreError("\(forward.alias): \(error.message)")
            }
        }
        return try self.write(dryRun: dryRun) { db in
            var summary = ImportSummary()
            for fresh in forwards {
                guard var existing = try StoredForward.filter(StoredForward.Columns.alias == fresh.alias).fetchOne(db) else {
                    var inserted = fresh
                    try inserted.insert(db)
                    summary.added.append(fresh.alias)
                    continue
                }
                if existing.spec == fresh.spec {
                    summary.unchanged.append(fresh.alias)
                    continue
                }
                existing.config = fresh.config
                existing.spec = fresh.spec
                existing.updatedAt = Date()
                try existing.update(db)
                summary.updated.append(fresh.alias)
            }
            return summary
        }
    }
}
