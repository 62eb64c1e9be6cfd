import KubeClient
import Synchronization

/// A picker whose candidates are read from its informers once per change of theirs rather than
/// once per connection: connections come far more often than pods change, and reading the
/// stores (copying objects out, filtering a namespace's slices) was a tenth of kfwd's CPU per
/// new connection.
struct CachedPodPicker: PodPicker {
    private final class Memo: Sendable {
        /// The informers' revisions the choices were read at, and the choices per remote port.
        let state = Mutex<(revisions: [UInt64], byPort: [Int: [PodChoice]])>(([], [:]))
    }

    let base: any PodPicker
    private let memo = Memo()

    init(_ base: any PodPicker) {
        self.base = base
    }

    func candidates(remotePort: Int) -> [PodChoice] {
        // Read before the stores: choices read after a change are kept under the revisions of
        // before it, and read again at the next call, never the other way round.
        let revisions = self.base.informers.map(\.revision)
        if let known = self.memo.state.withLock({ $0.revisions == revisions ? $0.byPort[remotePort] : nil }) { return known }
        let choices = self.base.candidates(remotePort: remotePort)
        self.memo.state.withLock { state in
            if state.revisions != revisions { state = (revisions, [:]) }
            state.byPort[remotePort] = choices
        }
        return choices
    }

    var informers: [any TickSource] { self.base.informers }
    func emptyReason(remotePort: Int) -> String { self.base.emptyReason(remotePort: remotePort) }
    var sticky: Bool { self.base.sticky }
    var apiError: KubeError? { self.base.apiError }
    func address(of pod: String) -> String? { self.base.address(of: pod) }
}
