import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import SPDY

/// The fused copy-and-mask against RFC 6455's definition written out byte by byte, and client
/// frames against NIO's own WebSocket decoder.
@Suite struct WebSocketMaskingTests {
    /// RFC 6455 section 5.3: octet i of the payload is XORed with octet i mod 4 of the key.
    static func oracle(_ bytes: [UInt8], key: UInt32, from offset: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            byte ^ UInt8(truncatingIfNeeded: key >> (24 - 8 * UInt32((index + offset) % 4)))
        }
    }

    @Test func everyLengthAndOffsetMasksAsTheRFCSays() {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...130) + [1000, 4093, 65_537] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for offset in 0..<4 {
                let key = UInt32.random(in: .min ... .max, using: &generator)
                var out = ByteBuffer()
                var position = offset
                bytes.withUnsafeBytes { WebSocketMasking.writeMasked(of: $0, key: key, offset: &position, into: &out) }
                #expect(Array(out.readableBytesView) == Self.oracle(bytes, key: key, from: offset), "length \(length) offset \(offset)")
                #expect(position == offset + length)

                var inPlace = bytes
                inPlace.withUnsafeMutableBytes { WebSocketMasking.mask($0, key: WebSocketMasking.rotate(key, by: offset)) }
                #expect(inPlace == Self.oracle(bytes, key: key, from: offset))
            }
        }
    }

    @Test func clientFramesDecodeWithNIOToTheirPayload() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        for (length, prefix) in [(0, nil), (5, UInt8(0)), (125, nil), (126, UInt8(1)), (65_535, nil), (65_536, UInt8(0)), (70_001, nil)] as [(Int, UInt8?)] {
            let payload = ByteBuffer(bytes: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let frame = WebSocketMasking.clientFrame(.binary, channel: prefix, payload: payload, allocator: channel.allocator)
            try channel.writeInbound(frame)
            let decoded = try #require(try channel.readInbound(as: WebSocketFrame.self))
            #expect(decoded.fin && decoded.opcode == .binary && decoded.maskKey != nil)
            var expected = ByteBuffer()
            if let prefix { expected.writeInteger(prefix) }
            expected.writeImmutableBuffer(payload)
            #expect(decoded.unmaskedData == expected, "length \(length)")
        }
    }

    /// The tunnel client's fused encoding carries, inside each masked message, exactly the bytes
    /// the plain encoder writes (header blocks included: each encoder has its own deflater).
    @Test func maskedTunnelFramingCarriesThePlainFramesBytes() throws {
        let plain = SPDYFrameEncoder()
        let masked = SPDYFrameEncoder(framing: .maskedWebSocket)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        var frames: [SPDYFrame] = [.ping(id: 7), .rstStream(streamID: 3, status: .cancel)]
        for length in [0, 1, 3, 117, 118, 65_527, 65_528, 100_003] {
            frames.append(.data(streamID: 5, fin: length % 2 == 1, payload: ByteBuffer(bytes: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) })))
        }
        for frame in frames {
            try channel.writeInbound(masked.encode(frame))
            let message = try #require(try channel.readInbound(as: WebSocketFrame.self))
            #expect(message.fin && message.opcode == .binary && message.maskKey != nil)
            #expect(message.unmaskedData == plain.encode(frame), "\(frame)")
        }
    }
}
