import NIOCore

/// How UDP datagrams travel on a relay stream, in both directions: a two-byte big-endian length,
/// then that many bytes. Any number may be in flight either way; nothing waits for a reply.
public enum DatagramFraming {
    /// The largest UDP payload over IPv4 (65535 - 20 - 8), the most a datagram can carry here.
    public static let maximumDatagram = 65507

    /// Appends one framed datagram.
    /// - Precondition: the datagram is at most ``maximumDatagram`` bytes.
    public static func write(_ datagram: ByteBuffer, to buffer: inout ByteBuffer) {
        precondition(datagram.readableBytes <= Self.maximumDatagram)
        buffer.writeInteger(UInt16(datagram.readableBytes))
        buffer.writeImmutableBuffer(datagram)
    }

    /// Takes one datagram off the front of `buffer`; nil when it is not all there yet.
    /// - Throws: ``RelayProtocolError`` for a length no UDP datagram can have; the stream is out
    ///   of step from there on and must be closed.
    public static func read(from buffer: inout ByteBuffer) throws(RelayProtocolError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else { return nil }
        guard length <= Self.maximumDatagram else {
            throw RelayProtocolError(.malformedHeader, "a datagram of \(length) bytes is larger than UDP allows (\(Self.maximumDatagram))")
        }
        guard buffer.readableBytes >= 2 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 2)
        return buffer.readSlice(length: Int(length))
    }
}

extension DatagramFraming {
    /// Takes framed datagrams off a stream read in pieces. The pieces are kept as they arrive:
    /// bytes are copied only to join a frame split across two reads, and the datagrams handed
    /// out are slices that nothing writes to afterwards.
    public struct Reader {
        private var pending = ByteBuffer()

        public init() {}

        public mutating func append(_ bytes: ByteBuffer) {
            guard self.pending.readableBytes > 0 else {
                self.pending = bytes
                return
            }
            // A fresh buffer: writing into `pending` would copy it for the slices already out.
            var joined = ByteBuffer()
            joined.reserveCapacity(self.pending.readableBytes + bytes.readableBytes)
            joined.writeImmutableBuffer(self.pending)
            joined.writeImmutableBuffer(bytes)
            self.pending = joined
        }

        /// The relay's status byte, first on every stream; nil until it has arrived.
        public mutating func readStatus() -> RelayStatus? {
            self.pending.readInteger(as: UInt8.self).map(RelayStatus.init(byte:))
        }

        /// The next whole datagram; nil until one is all there.
        /// - Throws: ``RelayProtocolError`` for a length no UDP datagram can have.
        public mutating func next() throws(RelayProtocolError) -> ByteBuffer? {
            try DatagramFraming.read(from: &self.pending)
        }
    }
}
