import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import SPDY

/// The tunnel client's frame decoder: a binary message that spans reads comes out in parts as
/// its bytes arrive, the same bytes in order, the FIN on the last part; control, text and masked
/// frames come out whole, as NIO's decoder gives them.
@Suite struct StreamingWebSocketFrameDecoderTests {
    /// A frame as a server sends it (unmasked), with the shortest length encoding.
    private static func serverFrame(_ opcode: WebSocketOpcode, payload: ByteBuffer) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.writeInteger(0x80 | UInt8(webSocketOpcode: opcode))
        switch payload.readableBytes {
        case ..<126: frame.writeInteger(UInt8(payload.readableBytes))
        case ...0xFFFF:
            frame.writeInteger(UInt8(126))
            frame.writeInteger(UInt16(payload.readableBytes))
        default:
            frame.writeInteger(UInt8(127))
            frame.writeInteger(UInt64(payload.readableBytes))
        }
        frame.writeImmutableBuffer(payload)
        return frame
    }

    private static func payload(_ length: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13) })
    }

    @Test(arguments: [100, 1_000, 70_001])
    func aBinaryMessageSpanningReadsIsHandedOnAsItArrives(length: Int) throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(StreamingWebSocketFrameDecoder(maxFrameSize: 1 << 10)))
        let text = Self.serverFrame(.text, payload: ByteBuffer(string: "whole"))
        let masked = WebSocketMasking.clientFrame(.binary, channel: nil, payload: Self.payload(300), allocator: channel.allocator)
        var wire = Self.serverFrame(.binary, payload: Self.payload(length))
        wire.writeImmutableBuffer(Self.serverFrame(.ping, payload: ByteBuffer(string: "p")))
        wire.writeImmutableBuffer(text)
        wire.writeImmutableBuffer(masked)
        var parts: [WebSocketFrame] = []
        var others: [WebSocketFrame] = []
        var received = ByteBuffer()
        for size in [1, 3, 7, 50, 500, 2, wire.readableBytes] {
            guard let piece = wire.readSlice(length: min(size, wire.readableBytes)) else { break }
            try channel.writeInbound(piece)
            while let frame = try channel.readInbound(as: WebSocketFrame.self) {
                if others.isEmpty, frame.opcode == .binary || frame.opcode == .continuation, frame.maskKey == nil {
                    var data = frame.data
                    received.writeBuffer(&data)
                    parts.append(frame)
                } else {
                    others.append(frame)
                }
            }
            if size == 50, length > 100 { #expect(received.readableBytes > 0, "the payload read so far is handed on before the rest arrives") }
        }
        #expect(received == Self.payload(length))
        #expect(parts.first?.opcode == .binary && parts.dropFirst().allSatisfy { $0.opcode == .continuation })
        #expect(parts.last?.fin == true && parts.dropLast().allSatisfy { !$0.fin })
        #expect(others.map(\.opcode) == [.ping, .text, .binary])
        #expect(others.map(\.unmaskedData) == [ByteBuffer(string: "p"), ByteBuffer(string: "whole"), Self.payload(300)])
        _ = try channel.finish()
    }

    /// A frame too large to gather is refused from its header, as NIO's decoder refuses it,
    /// rather than gathered without bound; a binary frame with a length past Int's range is
    /// handed on as it comes, as any binary frame.
    @Test func aTextFrameTooLargeIsRefusedAndAHugeBinaryLengthIsNoCrash() throws {
        let refusing = EmbeddedChannel(handler: ByteToMessageHandler(StreamingWebSocketFrameDecoder(maxFrameSize: 1 << 10)))
        var text = ByteBuffer(bytes: [0x81, 127])
        text.writeInteger(UInt64(1) << 40)
        text.writeString("not all of it")
        #expect(throws: (any Error).self) { try refusing.writeInbound(text) }
        _ = try? refusing.finish()

        let streaming = EmbeddedChannel(handler: ByteToMessageHandler(StreamingWebSocketFrameDecoder(maxFrameSize: 1 << 10)))
        var binary = ByteBuffer(bytes: [0x82, 127])
        binary.writeInteger(UInt64.max)
        binary.writeString("first bytes")
        try streaming.writeInbound(binary)
        let part = try #require(try streaming.readInbound(as: WebSocketFrame.self))
        #expect(part.opcode == .binary && !part.fin && part.data == ByteBuffer(string: "first bytes"))
        _ = try? streaming.finish()
    }
}
