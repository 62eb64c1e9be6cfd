import NIOCore

/// Bytes to ``SPDYFrame``s for one direction of a session (it owns that direction's inflater).
/// Any malformed frame is an ``SPDYError``: the session cannot trust what follows it.
///
/// In a pipeline, a DATA frame's payload is handed on as it arrives, as DATA frames of the same
/// stream carrying the parts, the last with the frame's FIN: a byte stream reads the same, and
/// the payload is never gathered first (a frame is up to 16 MiB and spans many reads, and
/// gathering it copied every byte once more).
public struct SPDYFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = SPDYFrame

    private let decompressor = HeaderBlockDecompressor()
    /// The DATA frame whose payload is still arriving.
    private var partial: (streamID: UInt32, fin: Bool, payload: ArrivingPayload)?

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if var partial = self.partial {
            guard let (part, isLast) = partial.payload.next(from: &buffer) else { return .needMoreData }
            self.partial = isLast ? nil : partial
            context.fireChannelRead(Self.wrapInboundOut(.data(streamID: partial.streamID, fin: isLast && partial.fin, payload: part)))
            return .continue
        }
        if let frame = try self.decode(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return .continue
        }
        // A DATA frame not all here: its header now, and its payload as it comes.
        guard let word = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self), word & 0x8000_0000 == 0,
            let flagsAndLength = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self)
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 8)
        self.partial = (word & 0x7FFF_FFFF, (flagsAndLength >> 24) & 0x01 != 0, ArrivingPayload(remaining: Int(flagsAndLength & 0x00FF_FFFF)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }

    /// Reads one whole frame from the front of `buffer`, or nothing if it has not all arrived.
    public func decode(_ buffer: inout ByteBuffer) throws(SPDYError) -> SPDYFrame? {
        guard let word = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
            let flagsAndLength = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self)
        else { return nil }
        let flags = UInt8(flagsAndLength >> 24)
        let length = Int(flagsAndLength & 0x00FF_FFFF)
        guard buffer.readableBytes >= 8 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 8)
        var payload = buffer.readSlice(length: length)!
        guard word & 0x8000_0000 != 0 else {
            return .data(streamID: word & 0x7FFF_FFFF, fin: flags & 0x01 != 0, payload: payload)
        }
        // The version is not checked, as in spdystream.
        let typeCode = UInt16(word & 0xFFFF)
        guard let type = SPDYFrame.ControlType(rawValue: typeCode) else {
            throw .frame("unknown control frame type \(typeCode)")
        }
        switch type {
        case .synStream:
            guard length >= 10 else { throw .frame("SYN_STREAM of \(length) bytes is shorter than 10") }
            let streamID = payload.readInteger(as: UInt32.self)! & 0x7FFF_FFFF
            let associated = payload.readInteger(as: UInt32.self)! & 0x7FFF_FFFF
            let priority = payload.readInteger(as: UInt8.self)! >> 5
            payload.moveReaderIndex(forwardBy: 1)  // the credential slot
            let headers = try self.headers(payload)
            return .synStream(streamID: streamID, associatedStreamID: associated, priority: priority, flags: flags, headers: headers)
        case .synReply, .headers:
            guard length >= 4 else { throw .frame("\(type) of \(length) bytes is shorter than 4") }
            let streamID = payload.readInteger(as: UInt32.self)! & 0x7FFF_FFFF
            let headers = try self.headers(payload)
            return type == .synReply
                ? .synReply(streamID: streamID, flags: flags, headers: headers) : .headers(streamID: streamID, flags: flags, headers: headers)
        case .rstStream:
            guard length == 8 else { throw .frame("RST_STREAM must be 8 bytes, not \(length)") }
            let streamID = payload.readInteger(as: UInt32.self)! & 0x7FFF_FFFF
            let status = payload.readInteger(as: UInt32.self)!
            guard status != 0 else { throw .frame("RST_STREAM with the invalid status 0") }
            return .rstStream(streamID: streamID, status: .init(rawValue: status))
        case .settings:
            guard length >= 4, let count = payload.readInteger(as: UInt32.self), Int(count) * 8 == length - 4 else {
                throw .frame("SETTINGS of \(length) bytes does not hold its entry count")
            }
            var entries: [SPDYFrame.Setting] = []
            for _ in 0..<count {
                let idWord = payload.readInteger(as: UInt32.self)!
                entries.append(.init(flags: UInt8(idWord >> 24), id: idWord & 0x00FF_FFFF, value: payload.readInteger(as: UInt32.self)!))
            }
            return .settings(flags: flags, entries: entries)
        case .ping:
            guard length == 4, flags == 0 else { throw .frame("PING must be 4 bytes without flags") }
            let id = payload.readInteger(as: UInt32.self)!
            guard id != 0 else { throw .frame("PING with id 0") }
            return .ping(id: id)
        case .goAway:
            guard length == 8, flags == 0 else { throw .frame("GOAWAY must be 8 bytes without flags") }
            return .goAway(lastGoodStreamID: payload.readInteger(as: UInt32.self)! & 0x7FFF_FFFF, status: payload.readInteger(as: UInt32.self)!)
        case .windowUpdate:
            guard length == 8, flags == 0 else { throw .frame("WINDOW_UPDATE must be 8 bytes without flags") }
            return .windowUpdate(streamID: payload.readInteger(as: UInt32.self)! & 0x7FFF_FFFF, delta: payload.readInteger(as: UInt32.self)! & 0x7FFF_FFFF)
        }
    }

    private func headers(_ compressed: ByteBuffer) throws(SPDYError) -> SPDYHeaders {
        try SPDYHeaders(decoding: try self.decompressor.decompress(compressed))
    }
}
