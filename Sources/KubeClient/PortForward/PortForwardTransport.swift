import NIOCore
import Signals

/// A way to carry bytes to a pod's port through the API server. The engine opens streams and
/// splices them to local connections without knowing which protocol carries them.
public protocol PortForwardTransport: Sendable {
    /// The protocol's name as users see it (`websocket`, `spdy`, `tunnel`).
    var name: String { get }

    /// Opens a stream to `port` of a pod; it lives on `eventLoop` (the local connection's, so the
    /// bytes never hop threads).
    func open(namespace: String, pod: String, port: Int, on eventLoop: any EventLoop) async throws(PortForwardError) -> any PortForwardStream

    /// Opens a stream and joins it to `local` at once, without suspending, when a connection that
    /// can carry it is already up (a multiplexing transport's session to `pod` on `local`'s event
    /// loop); nil otherwise. Called on that event loop as `local` is accepted, so that its bytes
    /// flow, and the connection is served, without any task.
    /// - Returns: how the splice ended, as ``PortForwardStream/splice(with:replaying:)`` would
    ///   return it (a ``PortForwardError`` when it failed), completed on `local`'s event loop.
    func openNow(namespace: String, pod: String, port: Int, joining local: any Channel) -> EventLoopFuture<SpliceOutcome>?

    /// Whether one connection to the API server carries many streams (SPDY, the tunnel): then
    /// ``prepare(namespace:pod:on:)`` makes new connections cheap without opening streams ahead.
    var multiplexes: Bool { get }

    /// Connects ahead to `pod` on `eventLoop` (a session, for a multiplexing transport) so that
    /// the next ``open(namespace:pod:port:on:)`` there skips the handshake. Opens no stream, so
    /// the pod's runtime dials nothing.
    func prepare(namespace: String, pod: String, on eventLoop: any EventLoop) async throws(PortForwardError)

    /// Fires when a kept session closes (found dead, told to go away), so that whoever keeps
    /// sessions open can dial again; nil for a transport that keeps none.
    var sessionsClosed: Ticker? { get }

    /// Lets go of sessions to pods of `namespace` not in `pods` (once their streams end).
    func retainSessions(namespace: String, pods: Set<String>)

    /// Stops keeping connections: open streams carry on, idle sessions close, and the rest
    /// close when their last stream ends.
    func shutdown()
}

extension PortForwardTransport {
    public func openNow(namespace: String, pod: String, port: Int, joining local: any Channel) -> EventLoopFuture<SpliceOutcome>? { nil }
    public var multiplexes: Bool { false }
    public func prepare(namespace: String, pod: String, on eventLoop: any EventLoop) async throws(PortForwardError) {}
    public var sessionsClosed: Ticker? { nil }
    public func retainSessions(namespace: String, pods: Set<String>) {}
    public func shutdown() {}
}

/// How a spliced stream ended.
public enum SpliceOutcome: Sendable {
    /// Both ends closed.
    case finished
    /// The pod's side failed before sending a byte, in a way that proves the pod never got the
    /// data (the runtime could not dial its port). The local connection is still open, not
    /// reading, and `replay` holds every byte read from it so far, for another pod.
    case refusedBeforeResponse(PortForwardError, replay: ByteBuffer)
}

/// One open byte stream to a pod's port.
public protocol PortForwardStream: Sendable {
    /// Joins the stream to a local connection on the same event loop, after sending `replaying`
    /// (bytes an earlier stream took from that connection), and returns when the connection is
    /// done or could go to another pod. Bytes flow in channel handlers with backpressure both
    /// ways: a local reader that stops reading stops the reads from the pod, and the reverse.
    /// - Throws: what the pod's side reported, when the stream ended in an error.
    func splice(with local: any Channel, replaying: ByteBuffer) async throws(PortForwardError) -> SpliceOutcome

    /// Closes the stream (an unused one, or to cut a spliced one).
    func close()

    /// Whether the stream is still connected (one opened ahead may have been closed since).
    var isOpen: Bool { get }
}

extension PortForwardStream {
    /// Splices with nothing to replay and nowhere else to go: a refusal closes the connection.
    public func splice(with local: any Channel) async throws(PortForwardError) {
        if case .refusedBeforeResponse(let error, _) = try await self.splice(with: local, replaying: ByteBuffer()) {
            local.close(promise: nil)
            throw error
        }
    }
}
