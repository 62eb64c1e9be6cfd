import RelayProtocol
import Synchronization

/// The relay's ``RelayClaim``, shared by every stream of the process.
final class RelayOwnership: Sendable {
    private let claim: Mutex<RelayClaim>

    init(secret: String?) {
        self.claim = Mutex(RelayClaim(secret: secret))
    }

    func offer(_ secret: String, presence: Bool) -> RelayClaim.Verdict {
        self.claim.withLock { $0.offer(secret, presence: presence) }
    }
}
