import NIOCore

/// ``SPDYFrame``s to bytes for one direction of a session (it owns that direction's deflater,
/// so every header block goes through it in order).
public struct SPDYFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = SPDYFrame

    /// What the bytes go out as.
    public enum Framing: Sendable {
        /// SPDY frames on the connection itself.
        case plain
        /// Each frame as a masked binary WebSocket message (the client's side of the tunnel):
        /// a DATA frame's header and payload are masked straight into the message, so its
        /// payload is copied once rather than into a frame and again into a message.
        case maskedWebSocket
    }

    private let compressor = HeaderBlockCompressor()
    private let framing: Framing

    public init(framing: Framing = .plain) {
        self.framing = framing
    }

    public func encode(data frame: SPDYFrame, out: inout ByteBuffer) {
        guard self.framing == .maskedWebSocket else { return self.encodePlain(frame, into: &out) }
        if case .data(let streamID, let fin, let payload) = frame {
            precondition(payload.readableBytes <= SPDYFrame.maximumLength, "split DATA larger than 16 MiB before encoding")
            let length = 8 + payload.readableBytes
            out.reserveCapacity(minimumWritableBytes: 14 + length)
            let key = WebSocketMasking.writeClientHeader(.binary, length: length, into: &out)
            let header = ((streamID & 0x7FFF_FFFF).bigEndian, (UInt32(fin ? 0x01 : 0) << 24 | UInt32(payload.readableBytes)).bigEndian)
            var offset = 0
            withUnsafeBytes(of: header) { WebSocketMasking.writeMasked(of: $0, key: key, offset: &offset, into: &out) }
            payload.withUnsafeReadableBytes { WebSocketMasking.writeMasked(of: $0, key: key, offset: &offset, into: &out) }
        } else {
            // Control frames are small and rare: encoded plainly, then masked into the message.
            var plain = ByteBuffer()
            self.encodePlain(frame, into: &plain)
            let key = WebSocketMasking.writeClientHeader(.binary, length: plain.readableBytes, into: &out)
            var offset = 0
            plain.withUnsafeReadableBytes { WebSocketMasking.writeMasked(of: $0, key: key, offset: &offset, into: &out) }
        }
    }

    private func encodePlain(_ frame: SPDYFrame, into out: inout ByteBuffer) {
        switch frame {
        case .data(let streamID, let fin, var payload):
            precondition(payload.readableBytes <= SPDYFrame.maximumLength, "split DATA larger than 16 MiB before encoding")
            out.writeInteger(streamID & 0x7FFF_FFFF)
            out.writeInteger(UInt32(fin ? 0x01 : 0) << 24 | UInt32(payload.readableBytes))
            out.writeBuffer(&payload)
        case .synStream(let streamID, let associated, let priority, let flags, let headers):
            self.control(.synStream, flags: flags, into: &out) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                body.writeInteger(associated & 0x7FFF_FFFF)
                body.writeInteger(UInt8(priority << 5))
                body.writeInteger(UInt8(0))
                self.compressor.compress(headers.encoded(), into: &body)
            }
        case .synReply(let streamID, let flags, let headers):
            self.control(.synReply, flags: flags, into: &out) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                self.compressor.compress(headers.encoded(), into: &body)
            }
        case .headers(let streamID, let flags, let headers):
            self.control(.headers, flags: flags, into: &out) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                self.compressor.compress(headers.encoded(), into: &body)
            }
        case .rstStream(let streamID, let status):
            self.control(.rstStream, flags: 0, into: &out) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                body.writeInteger(status.rawValue)
            }
        case .settings(let flags, let entries):
            self.control(.settings, flags: flags, into: &out) { body in
                body.writeInteger(UInt32(entries.count))
                for entry in entries {
                    body.writeInteger(UInt32(entry.flags) << 24 | entry.id & 0x00FF_FFFF)
                    body.writeInteger(entry.value)
                }
            }
        case .ping(let id):
            self.control(.ping, flags: 0, into: &out) { $0.writeInteger(id) }
        case .goAway(let lastGood, let status):
            self.control(.goAway, flags: 0, into: &out) { body in
                body.writeInteger(lastGood & 0x7FFF_FFFF)
                body.writeInteger(status)
            }
        case .windowUpdate(let streamID, let delta):
            self.control(.windowUpdate, flags: 0, into: &out) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                body.writeInteger(delta & 0x7FFF_FFFF)
            }
        }
    }

    /// Writes a control frame's 8-byte header, then its body, filling the length in afterwards.
    private func control(_ type: SPDYFrame.ControlType, flags: UInt8, into out: inout ByteBuffer, body: (inout ByteBuffer) -> Void) {
        out.writeInteger(UInt16(0x8000) | SPDYFrame.version)
        out.writeInteger(type.rawValue)
        let lengthIndex = out.writerIndex
        out.writeInteger(UInt32(0))
        body(&out)
        let length = out.writerIndex - lengthIndex - 4
        out.setInteger(UInt32(flags) << 24 | UInt32(length), at: lengthIndex)
    }

    /// Encodes one frame into a new buffer (tests, and writers outside a pipeline).
    public func encode(_ frame: SPDYFrame) -> ByteBuffer {
        var out = ByteBuffer()
        self.encode(data: frame, out: &out)
        return out
    }
}
