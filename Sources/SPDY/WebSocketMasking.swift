import NIOCore
import NIOWebSocket

/// WebSocket masking (RFC 6455 section 5.3) for both ends of every port-forward WebSocket, 32
/// bytes at a time, fused with the copy into the frame: NIO's `WebSocketFrameEncoder` and
/// `unmaskedData` go a byte at a time through a generic sequence, which dominated a forward's
/// profile, and a copy followed by a masking pass read every byte twice.
package enum WebSocketMasking {
    /// One client-to-server frame, masked with a fresh random key. `channel`, when given, is the
    /// port-forward channel byte that starts the payload, written in place so a data buffer is
    /// copied once.
    package static func clientFrame(_ opcode: WebSocketOpcode, channel: UInt8? = nil, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = payload.readableBytes + (channel == nil ? 0 : 1)
        var frame = allocator.buffer(capacity: length + 14)
        let key = Self.writeClientHeader(opcode, length: length, into: &frame)
        var offset = 0
        if let channel {
            withUnsafeBytes(of: channel) { Self.writeMasked(of: $0, key: key, offset: &offset, into: &frame) }
        }
        payload.withUnsafeReadableBytes { Self.writeMasked(of: $0, key: key, offset: &offset, into: &frame) }
        return frame
    }

    /// Writes a client frame's header for a payload of `length` bytes (FIN set, masked), and
    /// returns the fresh key the payload must be masked with.
    package static func writeClientHeader(_ opcode: WebSocketOpcode, length: Int, into frame: inout ByteBuffer) -> UInt32 {
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
        return key
    }

    /// Appends `bytes` masked as payload bytes `offset...` of a frame with `key`, in one pass,
    /// and advances `offset` past them.
    package static func writeMasked(of source: UnsafeRawBufferPointer, key: UInt32, offset: inout Int, into frame: inout ByteBuffer) {
        let rotated = Self.rotate(key, by: offset)
        frame.writeWithUnsafeMutableBytes(minimumWritableBytes: source.count) { target in
            Self.maskedCopy(from: source, to: target, key: rotated)
            return source.count
        }
        offset += source.count
    }

    /// A received frame's payload, unmasked in place when the frame carries a key.
    package static func payload(of frame: WebSocketFrame) -> ByteBuffer {
        var data = frame.data
        guard let key = frame.maskKey else { return data }
        let keyValue = UInt32(key[0]) << 24 | UInt32(key[1]) << 16 | UInt32(key[2]) << 8 | UInt32(key[3])
        data.withUnsafeMutableReadableBytes { Self.mask($0, key: keyValue) }
        return data
    }

    /// XORs `bytes` in place with the 4-byte key in network order, repeated.
    static func mask(_ bytes: UnsafeMutableRawBufferPointer, key: UInt32) {
        Self.maskedCopy(from: UnsafeRawBufferPointer(bytes), to: bytes, key: key)
    }

    /// Writes `source` XORed with the 4-byte key (network order, repeated from its first byte)
    /// to the start of `target`, which may be `source` itself.
    static func maskedCopy(from source: UnsafeRawBufferPointer, to target: UnsafeMutableRawBufferPointer, key: UInt32) {
        precondition(target.count >= source.count)
        guard let from = source.baseAddress, let to = target.baseAddress else { return }
        let count = source.count
        let word = UInt64(key) << 32 | UInt64(key)
        let pattern = SIMD4<UInt64>(repeating: word.bigEndian)
        var index = 0
        while index + 32 <= count {
            let value = from.loadUnaligned(fromByteOffset: index, as: SIMD4<UInt64>.self) ^ pattern
            to.storeBytes(of: value, toByteOffset: index, as: SIMD4<UInt64>.self)
            index += 32
        }
        while index + 8 <= count {
            let value = from.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ word.bigEndian
            to.storeBytes(of: value, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            let keyByte = UInt8(truncatingIfNeeded: key >> (24 - 8 * UInt32(index % 4)))
            to.storeBytes(of: from.load(fromByteOffset: index, as: UInt8.self) ^ keyByte, toByteOffset: index, as: UInt8.self)
            index += 1
        }
    }

    /// The key as seen from payload byte `offset` on (byte `offset % 4` of the key comes first).
    static func rotate(_ key: UInt32, by offset: Int) -> UInt32 {
        let bits = UInt32(offset % 4) * 8
        return bits == 0 ? key : key << bits | key >> (32 - bits)
    }
}
