import KubeClient
import NIOCore
import Synchronization

/// Streams opened for local connections, and joined to them, as they were accepted, on their
/// event loop, before a task ran for them (``PortForwardTransport/openNow(namespace:pod:port:joining:)``):
/// the task that serves a connection takes its stream from here to wait for its end, or opens
/// one itself when there is none.
final class EarlyStreams: Sendable {
    private let streams = Mutex<[ObjectIdentifier: any PortForwardStream]>([:])

    func put(_ stream: any PortForwardStream, for local: any Channel) {
        self.streams.withLock { $0[ObjectIdentifier(local)] = stream }
    }

    func take(for local: any Channel) -> (any PortForwardStream)? {
        self.streams.withLock { $0.removeValue(forKey: ObjectIdentifier(local)) }
    }

    /// Closes the streams no task took (connections accepted as the forward stopped), and with
    /// them their connections, so that they hold no session open.
    func closeAll() {
        let left = self.streams.withLock { streams in
            defer { streams = [:] }
            return Array(streams.values)
        }
        for stream in left { stream.close() }
    }
}
