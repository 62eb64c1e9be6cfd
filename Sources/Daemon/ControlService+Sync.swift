import ConfigStore
import ControlAPI
import Forwarding
import Foundation
import ServiceLifecycle

/// The daemon's pulls of the sync sources (`kfwd sync add`): each source's group replaced, and
/// the running forwards made to match, as `kfwd start --project` does for a repository.
extension ControlService {
    /// Pulls every source under `home`: the group's forwards the files dropped stop and go, the
    /// changed ones that run restart with their new spec, new ones wait to be started.
    func pullSources(home: String) async {
        for source in SyncSource.all(home: home) {
            do throws(ConfigStoreError) {
                let commit = try await source.pull(home: home)
                let forwards = try source.forwards(home: home)
                for alias in try self.store.leaving(source.name, for: forwards) {
                    await self.supervisor.stop(alias)
                }
                let change = try self.store.replaceGroup(source.name, with: forwards)
                if change.added.count + change.changed.count + change.removed.count > 0 { self.storeChanged.fire() }
                _ = try? await self.restart(ControlRequest(
                    aliases: change.changed.filter { self.supervisor.status($0).map { $0.state != .stopped } ?? false }, all: false
                ))
                self.logger.info("sync \(source.name): at \(commit): \(change.summary)")
            } catch {
                self.logger.warning("sync \(source.name): \(error.description)")
            }
        }
    }
}

/// Pulls the sync sources every `sync_interval_minutes` (read again each time, so a change of
/// the setting applies at the next pull; 0 leaves pulling to `kfwd sync`).
struct SyncService: Service {
    let control: ControlService
    let home: String

    func run() async {
        // The daemon's shutdown ends the wait between pulls, not only cancellation.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let minutes = (try? self.control.store.settings().syncIntervalMinutes) ?? 0
                // Off: the setting is looked at again in a minute.
                let wait = minutes > 0 ? Duration.milliseconds(Int(minutes * 60_000)) : .seconds(60)
                try await Task.sleep(for: wait)
                if minutes > 0 { await self.control.pullSources(home: self.home) }
            }
        }
    }
}
