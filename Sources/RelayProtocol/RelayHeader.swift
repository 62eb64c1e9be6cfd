import NIOCore

/// What a client sends first on every relay stream (docs/relay-protocol.md has the byte layout):
/// the protocol version, what the stream carries, where to, and the secret that proves the
/// client is the kfwd that started the relay.
public struct RelayHeader: Sendable, Hashable {
    /// The version this code speaks; a relay answers any other with
    /// ``RelayStatus/unsupportedVersion``.
    public static let version: UInt8 = 1
    /// The most bytes a header's body may declare: a relay reads no more before deciding.
    public static let maximumBodyLength = 1024

    public let transport: RelayTransport
    /// Nil exactly for ``RelayTransport/presence``.
    public let target: RelayTarget?
    public let secret: String

    /// A stream to `target`.
    /// - Precondition: `transport` is not ``RelayTransport/presence``; the secret is at most 255 bytes.
    public init(_ transport: RelayTransport, target: RelayTarget, secret: String) {
        precondition(transport != .presence && secret.utf8.count <= 255)
        self.transport = transport
        self.target = target
        self.secret = secret
    }

    /// A stream that only keeps the relay from exiting while the client has nothing to send.
    public static func presence(secret: String) -> RelayHeader {
        RelayHeader(transport: .presence, target: nil, secret: secret)
    }

    private init(transport: RelayTransport, target: RelayTarget?, secret: String) {
        self.transport = transport
        self.target = target
        self.secret = secret
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(Self.version)
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt16(0))
        let bodyStart = buffer.writerIndex
        buffer.writeInteger(self.transport.rawValue)
        self.target?.write(to: &buffer)
        buffer.writeInteger(UInt8(self.secret.utf8.count))
        buffer.writeString(self.secret)
        buffer.setInteger(UInt16(buffer.writerIndex - bodyStart), at: lengthIndex)
    }

    public var bytes: ByteBuffer {
        var buffer = ByteBuffer()
        self.write(to: &buffer)
        return buffer
    }

    /// Reads one header from the front of `buffer`.
    /// - Returns: nil while the header is not complete (nothing is consumed then).
    /// - Throws: ``RelayProtocolError`` with the status to answer, as soon as the bytes read so
    ///   far cannot start a valid header.
    public static func read(from buffer: inout ByteBuffer) throws(RelayProtocolError) -> RelayHeader? {
        guard let version = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        guard version == Self.version else {
            throw RelayProtocolError(.unsupportedVersion, "relay protocol version \(version) is not \(Self.version)")
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt16.self) else { return nil }
        guard length <= Self.maximumBodyLength else {
            throw RelayProtocolError(.malformedHeader, "a header of \(length) bytes is longer than the \(Self.maximumBodyLength) allowed")
        }
        guard buffer.readableBytes >= 3 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 3)
        var body = buffer.readSlice(length: Int(length))!
        guard let rawTransport = body.readInteger(as: UInt8.self) else {
            throw RelayProtocolError(.malformedHeader, "the header is empty")
        }
        guard let transport = RelayTransport(rawValue: rawTransport) else {
            throw RelayProtocolError(.malformedHeader, "unknown stream protocol \(rawTransport)")
        }
        let target = transport == .presence ? nil : try RelayTarget.read(from: &body)
        guard let secretLength = body.readInteger(as: UInt8.self), let secret = body.readString(length: Int(secretLength)) else {
            throw RelayProtocolError(.malformedHeader, "the header ends inside the secret")
        }
        guard body.readableBytes == 0 else {
            throw RelayProtocolError(.malformedHeader, "\(body.readableBytes) bytes follow the secret inside the header")
        }
        return RelayHeader(transport: transport, target: target, secret: secret)
    }
}
