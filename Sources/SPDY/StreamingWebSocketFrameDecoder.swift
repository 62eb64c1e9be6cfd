import NIOCore
import NIOWebSocket

/// NIO's WebSocket frame decoder, except that an unmasked binary frame (or continuation) that
/// has not all arrived is handed on in parts as its bytes come: the first part with the
/// frame's opcode, the rest as continuations, the last with the frame's FIN.
///
/// For the SPDY tunnel, where message boundaries carry no meaning (wire doc section 3) and the
/// server sends a SPDY frame of up to 64 KiB per message over TLS records of 16 KiB: NIO's
/// decoder gathers every such message before passing it on, a copy of every byte. Control,
/// text and masked frames, and any frame already whole, go through NIO's decoder as before.
package struct StreamingWebSocketFrameDecoder: ByteToMessageDecoder {
    package typealias InboundOut = WebSocketFrame

    private let whole: WebSocketFrameDecoder
    private let maxFrameSize: Int
    /// The frame whose payload is still arriving.
    private var partial: (fin: Bool, payload: ArrivingPayload)?

    /// - Parameter maxFrameSize: the largest frame NIO's decoder gathers; frames handed on in
    ///   parts are never held, so it does not bound them.
    package init(maxFrameSize: Int) {
        self.whole = WebSocketFrameDecoder(maxFrameSize: maxFrameSize)
        self.maxFrameSize = maxFrameSize
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if var partial = self.partial {
            guard let (part, isLast) = partial.payload.next(from: &buffer) else { return .needMoreData }
            self.partial = isLast ? nil : partial
            context.fireChannelRead(Self.wrapInboundOut(WebSocketFrame(fin: isLast && partial.fin, opcode: .continuation, data: part)))
            return .continue
        }
        guard let header = Self.header(buffer) else { return .needMoreData }
        // Whole (the length compared so that a 64-bit one cannot overflow), or too large to
        // gather, which NIO's decoder refuses from its header alone. NIO's parser never sees a
        // frame it would have to hold half-parsed.
        if buffer.readableBytes - header.length >= header.payload || (!header.streamable && header.payload > self.maxFrameSize) {
            return try self.whole.decode(context: context, buffer: &buffer)
        }
        guard header.streamable, buffer.readableBytes > header.length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: header.length)
        var payload = ArrivingPayload(remaining: header.payload)
        // Not all here, so not the last part.
        let (part, _) = payload.next(from: &buffer)!
        self.partial = (header.fin, payload)
        context.fireChannelRead(Self.wrapInboundOut(WebSocketFrame(fin: false, opcode: header.opcode, data: part)))
        return .continue
    }

    private struct Header {
        let fin: Bool
        let opcode: WebSocketOpcode
        let length: Int
        let payload: Int
        /// Unmasked binary or continuation data, no reserved bits: what may be handed on in parts.
        let streamable: Bool
    }

    /// The header at the front of `buffer` (RFC 6455 section 5.2), or nil while it is incomplete.
    private static func header(_ buffer: ByteBuffer) -> Header? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else { return nil }
        let masked = second & 0x80 != 0
        var length = 2
        let payload: Int
        switch second & 0x7F {
        case 126:
            guard let extended = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) else { return nil }
            payload = Int(extended)
            length += 2
        case 127:
            guard let extended = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt64.self) else { return nil }
            // Past Int's range: NIO's decoder refuses it once whole, which it never is.
            payload = Int(clamping: extended)
            length += 8
        case let short:
            payload = Int(short)
        }
        if masked { length += 4 }
        let opcode = WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F)
        let streamable = !masked && first & 0x70 == 0 && (opcode == .binary || opcode == .continuation)
        return Header(fin: first & 0x80 != 0, opcode: opcode ?? .continuation, length: length, payload: payload, streamable: streamable)
    }
}
