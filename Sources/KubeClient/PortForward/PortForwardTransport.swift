import NIOCore

/// A way to carry bytes to a pod's port through the API server. The engine opens streams and
/// splices them to local connections without knowing which protocol carries them.
public protocol PortForwardTransport: Sendable {
    /// The protocol's name as users see it (`websocket`, `spdy`, `tunnel`).
    var name: String { get }

    /// Opens a stream to `port` of a pod; it lives on `eventLoop` (the local connection's, so the
    /// bytes never hop threads).
    func open(namespace: String, pod: String, port: Int, on eventLoop: any EventLoop) async throws(PortForwardError) -> any PortForwardStream
}

/// One open byte stream to a pod's port.
public protocol PortForwardStream: Sendable {
    /// Joins the stream to a local connection on the same event loop and returns once both ends
    /// are closed. Bytes flow in channel handlers with backpressure both ways: a local reader
    /// that stops reading stops the reads from the pod, and the reverse.
    /// - Throws: what the pod's side reported, when the stream ended in an error.
    func splice(with local: any Channel) async throws(PortForwardError)

    /// Closes the stream (an unused one, or to cut a spliced one).
    func close()
}
