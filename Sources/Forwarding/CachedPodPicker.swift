import KubeClient
import Synchronization

/// A picker whose answers for new connections (the candidates, whether the target is sticky)
/// are read from its informers once per change of theirs rather than once per connection:
/// connections come far more often than pods change, and reading the stores (copying objects
/// out, filtering a namespace's slices) was a tenth of kfwd's CPU per new connection.
struct CachedPodPicker: PodPicker {
    /// What was read at one set of the informers' revisions.
    private struct Snapshot {
        var revisions: [UInt64]
        var byPort: [RemotePort: [PodChoice]] = [:]
        var sticky: Bool?
    }

    private final class Memo: Sendable {
        let snapshot = Mutex(Snapshot(revisions: []))
    }

    let base: any PodPicker
    private let memo = Memo()

    init(_ base: any PodPicker) {
        self.base = base
    }

    func candidates(remotePort: RemotePort) -> [PodChoice] {
        self.cached(\.byPort[remotePort]) { self.base.candidates(remotePort: remotePort) }
    }

    var sticky: Bool { self.cached(\.sticky) { self.base.sticky } }

    /// `field` of the snapshot of the stores as they are now, read with `read` when unknown.
    private func cached<T: Sendable>(_ field: WritableKeyPath<Snapshot, T?>, _ read: () -> T) -> T {
        // Read before the stores: what is read after a change is kept under the revisions of
        // before it, and read again at the next call, never the other way round.
        let revisions = self.base.informers.map(\.revision)
        if let known = self.memo.snapshot.withLock({ $0.revisions == revisions ? $0[keyPath: field] : nil }) { return known }
        let value = read()
        self.memo.snapshot.withLock { snapshot in
            if snapshot.revisions != revisions { snapshot = Snapshot(revisions: revisions) }
            snapshot[keyPath: field] = value
        }
        return value
    }

    var informers: [any TickSource] { self.base.informers }
    func emptyReason(remotePort: RemotePort) -> ForwardError { self.base.emptyReason(remotePort: remotePort) }
    var apiError: KubeError? { self.base.apiError }
    func address(of pod: String) -> String? { self.base.address(of: pod) }
}
