import KubeClient
import NIOCore
import Synchronization

/// Where local connections were sent as they were accepted, on their event loop, before a task
/// ran for them: the pod chosen and, when a multiplexing session to it was up, the stream
/// already joined to the connection (``PortForwardTransport/openNow(namespace:pod:port:joining:)``).
/// The task that serves a connection takes its entry to wait for the stream's end, or to open
/// one to the chosen pod itself.
final class EarlyStreams: Sendable {
    struct Entry: Sendable {
        let choice: PodChoice
        /// Joined to the connection; nil when the pod had no session up.
        let stream: (any PortForwardStream)?
        /// The route's generation it was chosen on (``Route/generation``).
        let generation: Int
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    func put(_ entry: Entry, for local: any Channel) {
        self.entries.withLock { $0[ObjectIdentifier(local)] = entry }
    }

    func take(for local: any Channel) -> Entry? {
        self.entries.withLock { $0.removeValue(forKey: ObjectIdentifier(local)) }
    }

    /// Closes the streams no task took (connections accepted as the forward stopped), and with
    /// them their connections, so that they hold no session open.
    func closeAll() {
        let left = self.entries.withLock { entries in
            defer { entries = [:] }
            return Array(entries.values)
        }
        for entry in left { entry.stream?.close() }
    }
}
