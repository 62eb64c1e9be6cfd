import KubeClient
import NIOCore
import Synchronization

/// What was decided for a local connection on its event loop, as it was accepted or as its
/// stream ended there, before a task took it over: the pod chosen and, when that pod refused
/// before answering, why and what the connection had sent. The task that serves the connection
/// takes its entry and goes on from there.
final class EarlyChoices: Sendable {
    struct Entry: Sendable {
        let choice: PodChoice
        /// The route's generation it was chosen on (``Route/generation``).
        let generation: Int
        /// The chosen pod refused the stream before it answered: the error, and every byte read
        /// from the connection, for the next pod.
        var refusal: (error: PortForwardError, replay: ByteBuffer)?
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    func put(_ entry: Entry, for local: any Channel) {
        self.entries.withLock { $0[ObjectIdentifier(local)] = entry }
    }

    func take(for local: any Channel) -> Entry? {
        self.entries.withLock { $0.removeValue(forKey: ObjectIdentifier(local)) }
    }
}
