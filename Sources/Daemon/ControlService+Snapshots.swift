import ConfigStore
import ControlAPI
import Foundation

extension ControlService {
    /// Every saved forward with its live state.
    func snapshot() throws(ConfigStoreError) -> ForwardsSnapshot {
        self.snapshot(of: try self.store.forwards())
    }

    /// These saved forwards with their live state (read once by a caller that keeps them).
    func snapshot(of saved: [StoredForward]) -> ForwardsSnapshot {
        let report = self.status(of: saved)
        // The report has one entry per saved forward, in the same order.
        let forwards = zip(saved, report.forwards).map { forward, state in
            ForwardRow(forward, state: state) { self.contexts.name(of: $0, kftray: forward.config) }
        }
        return ForwardsSnapshot(daemonPID: report.daemon.pid, forwards: forwards)
    }

    /// Calls `wake` on each status change, each change of the saved forwards (and once at
    /// first) and every ``SnapshotPacing/tick``, until cancelled.
    func wakeSnapshots(_ wake: @escaping @Sendable (SnapshotPacing.Wake) -> Void) async {
        let updates = self.supervisor.updates()
        let (stored, storedTick) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let registration = self.storeChanged.tick(storedTick)
        defer { self.storeChanged.stopTicking(registration) }
        wake(.stored)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in updates { wake(.status) } }
            group.addTask { for await _ in stored { wake(.stored) } }
            group.addTask {
                while (try? await Task.sleep(for: SnapshotPacing.tick)) != nil { wake(.tick) }
            }
            await group.waitForAll()
        }
    }
}

/// What a live view has sent: a new snapshot only when it differs; the saved forwards read
/// from the store only when they change.
struct SnapshotFeed {
    let control: ControlService
    private var pacing = SnapshotPacing()
    private var sent: ForwardsSnapshot?
    private var saved: [StoredForward]?

    init(control: ControlService) {
        self.control = control
    }

    /// The snapshot to send for this wake, if any.
    mutating func next(_ wake: SnapshotPacing.Wake) throws -> ForwardsSnapshot? {
        if wake == .stored { self.saved = nil }
        guard self.pacing.wake(wake, at: .now) else { return nil }
        let forwards = try self.saved ?? self.control.store.forwards()
        self.saved = forwards
        let snapshot = self.control.snapshot(of: forwards)
        guard snapshot != self.sent else { return nil }
        self.sent = snapshot
        return snapshot
    }
}
