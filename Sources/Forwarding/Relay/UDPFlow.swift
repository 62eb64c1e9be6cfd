import NIOCore
import RelayProtocol

/// One local UDP peer of a forward (its address and port): its own stream to the relay, so that
/// replies reach it and no other peer. Lives on the forward's event loop.
final class UDPFlow {
    /// Bytes of datagrams kept while the stream opens; more are dropped, as a full socket
    /// buffer drops them.
    static let pendingLimit = 1 << 20

    let peer: SocketAddress
    /// The pod the flow goes to, for UDP to pods (nil for a Service or an address).
    var pod: String?
    private(set) var lastActivity = NIODeadline.now()
    /// Framed copies (a datagram as read holds a 64 KiB buffer), and their size.
    private var pending: [ByteBuffer] = []
    private var pendingBytes = 0
    private var inner: (any Channel)?
    private var isClosed = false
    private let onClose: (UDPFlow) -> Void
    private let onRefused: (String) -> Void
    private var unflushed = false

    init(peer: SocketAddress, onClose: @escaping (UDPFlow) -> Void, onRefused: @escaping (String) -> Void) {
        self.peer = peer
        self.onClose = onClose
        self.onRefused = onRefused
    }

    /// A datagram from the peer: framed onto the stream (flushed by ``flush()``, once per read
    /// of the socket), or kept until it opens.
    func send(_ datagram: ByteBuffer) {
        self.touch()
        guard let inner else {
            if self.pendingBytes + datagram.readableBytes <= Self.pendingLimit {
                self.pending.append(Self.frame(datagram, allocator: ByteBufferAllocator()))
                self.pendingBytes += datagram.readableBytes
            }
            return
        }
        // A stream that cannot take more drops the datagram, as a full socket buffer would.
        guard inner.isWritable else { return }
        inner.write(Self.frame(datagram, allocator: inner.allocator), promise: nil)
        self.unflushed = true
    }

    func flush() {
        guard self.unflushed else { return }
        self.unflushed = false
        self.inner?.flush()
    }

    /// The stream's inner end is ready: the header, then what the peer sent meanwhile.
    func attach(_ inner: any Channel, header: RelayHeader) {
        guard !self.isClosed else {
            inner.close(promise: nil)
            return
        }
        self.inner = inner
        inner.write(header.bytes, promise: nil)
        for frame in self.pending { inner.write(frame, promise: nil) }
        self.pending.removeAll()
        self.pendingBytes = 0
        inner.flush()
    }

    func touch() {
        self.lastActivity = .now()
    }

    /// Ends the flow (idle, or the forward stopping); the next datagram from the peer opens a new one.
    func close() {
        if let inner {
            inner.close(promise: nil)
        } else {
            self.closed()
        }
    }

    func refused(_ status: RelayStatus) {
        self.onRefused("the relay refused the flow: \(status)")
    }

    func failed(_ message: String) {
        self.onRefused("the relay's stream broke: \(message)")
    }

    func closed() {
        guard !self.isClosed else { return }
        self.isClosed = true
        self.inner = nil
        self.pending.removeAll()
        self.pendingBytes = 0
        self.onClose(self)
    }

    private static func frame(_ datagram: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: 2 + datagram.readableBytes)
        DatagramFraming.write(datagram, to: &frame)
        return frame
    }
}
