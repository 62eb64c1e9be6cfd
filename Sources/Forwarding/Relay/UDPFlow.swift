import NIOCore
import RelayProtocol

/// One local UDP peer of a forward (its address and port): its own stream to the relay, so that
/// replies reach it and no other peer. Lives on the forward's event loop.
final class UDPFlow {
    /// Datagrams kept while the stream opens; more than this are dropped, as a full socket
    /// buffer drops them.
    static let pendingLimit = 4096

    let peer: SocketAddress
    /// The pod the flow goes to, for UDP to pods (nil for a Service or an address).
    var pod: String?
    private(set) var lastActivity = NIODeadline.now()
    private var pending: [ByteBuffer] = []
    private var inner: (any Channel)?
    private var isClosed = false
    private let onClose: (UDPFlow) -> Void
    private let onRefused: (String) -> Void
    private(set) var dropped = 0
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
            if self.pending.count < Self.pendingLimit { self.pending.append(datagram) } else { self.dropped += 1 }
            return
        }
        guard inner.isWritable else {
            self.dropped += 1
            return
        }
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
        for datagram in self.pending { inner.write(Self.frame(datagram, allocator: inner.allocator), promise: nil) }
        self.pending.removeAll()
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
        self.onClose(self)
    }

    private static func frame(_ datagram: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: 2 + datagram.readableBytes)
        DatagramFraming.write(datagram, to: &frame)
        return frame
    }
}
