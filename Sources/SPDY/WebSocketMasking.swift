import NIOCore
import NIOWebSocket

/// WebSocket masking (RFC 6455 section 5.3) eight bytes at a time, for both ends of every
/// port-forward WebSocket: NIO's `WebSocketFrameEncoder` and `unmaskedData` go a byte at a time
/// through a generic sequence, which dominated a forward's profile and made debug builds crawl.
package enum WebSocketMasking {
    /// One client-to-server frame, masked with a fresh random key. `channel`, when given, is the
    /// port-forward channel byte that starts the payload, written in place so a data buffer is
    /// copied once.
    package static func clientFrame(_ opcode: WebSocketOpcode, channel: UInt8? = nil, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = payload.readableBytes + (channel == nil ? 0 : 1)
        var frame = allocator.buffer(capacity: length + 14)
        frame.writeInteger(UInt8(0x80) | UInt8(webSocketOpcode: opcode))
        switch length {
        case ..<126:
            frame.writeInteger(UInt8(0x80) | UInt8(length))
        case ..<65536:
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(length))
        default:
            frame.writeInteger(UInt8(0x80 | 127))
            frame.writeInteger(UInt64(length))
        }
        let key = UInt32.random(in: .min ... .max)
        frame.writeInteger(key)
        var payload = payload
        let start = frame.writerIndex
        if let channel { frame.writeInteger(channel) }
        frame.writeBuffer(&payload)
        frame.withUnsafeMutableReadableBytes { bytes in
            Self.mask(UnsafeMutableRawBufferPointer(rebasing: bytes[start...]), key: key)
        }
        return frame
    }

    /// A received frame's payload, unmasked in place when the frame carries a key.
    package static func payload(of frame: WebSocketFrame) -> ByteBuffer {
        var data = frame.data
        guard let key = frame.maskKey else { return data }
        let keyValue = UInt32(key[0]) << 24 | UInt32(key[1]) << 16 | UInt32(key[2]) << 8 | UInt32(key[3])
        data.withUnsafeMutableReadableBytes { Self.mask($0, key: keyValue) }
        return data
    }

    /// XORs `bytes` with the 4-byte key in network order, repeated.
    static func mask(_ bytes: UnsafeMutableRawBufferPointer, key: UInt32) {
        let keyBytes = withUnsafeBytes(of: key.bigEndian) { Array($0) }
        let word = withUnsafeBytes(of: key.bigEndian) { raw -> UInt64 in
            var pattern: UInt64 = 0
            withUnsafeMutableBytes(of: &pattern) { target in
                for index in 0..<8 { target[index] = raw[index % 4] }
            }
            return pattern
        }
        var index = 0
        while index + 8 <= bytes.count {
            let value = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ word
            bytes.storeBytes(of: value, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            bytes[index] ^= keyBytes[index % 4]
            index += 1
        }
    }
}
