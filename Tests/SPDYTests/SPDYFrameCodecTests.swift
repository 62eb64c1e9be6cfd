import NIOCore
import NIOEmbedded
import Testing

@testable import SPDY

/// The worked example of the wire doc (section 2.8) decodes to the documented frames and encodes
/// back to the same bytes; malformed input ends in an SPDYError, never a crash.
@Suite struct SPDYFrameCodecTests {
    private static func bytes(_ hex: String) -> ByteBuffer {
        let digits = Array(hex.filter { !$0.isWhitespace })
        return ByteBuffer(bytes: stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! })
    }

    private static let errorStreamHeaders: SPDYHeaders = ["streamtype": "error", "port": "8080", "requestid": "0"]

    static let synStream = """
        80 03 00 01 00 00 00 3d 00 00 00 01 00 00 00 00 00 00
        78 f9 e3 c6 a7 c2 02 25 3a 70 3a 2b 29 4a 4d cc 85 16 25 ac a9 a0 80 86 14 cb 45 e0 1c 60 61 60
        61 00 a4 39 8b 20 d1 98 09 4a de 8c 06 00 00 00 00 ff ff
        """
    static let firstSynReply = "80 03 00 02 00 00 00 14 00 00 00 01 78 f9 e3 c6 a7 c2 02 a6 23 06 00 00 00 00 ff ff"
    static let laterSynReply = "80 03 00 02 00 00 00 0c 00 00 00 03 02 01 00 00 00 00 ff ff"

    @Test func workedExampleSynStreamDecodesToItsHeaders() throws {
        var buffer = Self.bytes(Self.synStream)
        let frame = try SPDYFrameDecoder().decode(&buffer)
        #expect(frame == .synStream(streamID: 1, headers: Self.errorStreamHeaders))
        #expect(buffer.readableBytes == 0)
    }

    @Test func synStreamEncodesToTheWorkedExampleBytes() {
        // The doc's bytes were made with zlib level 9 and the dictionary, as the encoder does.
        let encoded = SPDYFrameEncoder().encode(.synStream(streamID: 1, headers: Self.errorStreamHeaders))
        #expect(encoded == Self.bytes(Self.synStream))
    }

    @Test func synRepliesShareOneCompressionContext() throws {
        // The first block carries the zlib header; the next continues the same stream.
        let decoder = SPDYFrameDecoder()
        var first = Self.bytes(Self.firstSynReply)
        var later = Self.bytes(Self.laterSynReply)
        #expect(try decoder.decode(&first) == .synReply(streamID: 1, headers: SPDYHeaders()))
        #expect(try decoder.decode(&later) == .synReply(streamID: 3, headers: SPDYHeaders()))

        let encoder = SPDYFrameEncoder()
        #expect(encoder.encode(.synReply(streamID: 1, headers: SPDYHeaders())) == Self.bytes(Self.firstSynReply))
        #expect(encoder.encode(.synReply(streamID: 3, headers: SPDYHeaders())) == Self.bytes(Self.laterSynReply))
    }

    @Test(arguments: [
        ("00 00 00 01 01 00 00 00", SPDYFrame.data(streamID: 1, fin: true, payload: ByteBuffer())),
        ("00 00 00 03 00 00 00 05 68 65 6c 6c 6f", .data(streamID: 3, fin: false, payload: ByteBuffer(string: "hello"))),
        ("80 03 00 06 00 00 00 04 00 00 00 01", .ping(id: 1)),
        ("80 03 00 03 00 00 00 08 00 00 00 03 00 00 00 05", .rstStream(streamID: 3, status: .cancel)),
        ("80 03 00 07 00 00 00 08 00 00 00 00 00 00 00 00", .goAway(lastGoodStreamID: 0, status: 0)),
        ("80 03 00 09 00 00 00 08 00 00 00 03 00 01 00 00", .windowUpdate(streamID: 3, delta: 65536)),
        ("80 03 00 04 00 00 00 0c 00 00 00 01 00 00 00 07 00 01 00 00", .settings(flags: 0, entries: [.init(flags: 0, id: 7, value: 65536)])),
    ])
    func workedExampleFramesRoundTrip(hex: String, frame: SPDYFrame) throws {
        var buffer = Self.bytes(hex)
        #expect(try SPDYFrameDecoder().decode(&buffer) == frame)
        #expect(SPDYFrameEncoder().encode(frame) == Self.bytes(hex))
    }

    @Test func aFrameSplitAnywhereWaitsForTheRest() throws {
        let whole = Self.bytes(Self.synStream + " 00 00 00 03 00 00 00 05 68 65 6c 6c 6f")
        for split in 1..<whole.readableBytes {
            let decoder = SPDYFrameDecoder()
            var buffer = whole.getSlice(at: 0, length: split)!
            var frames: [SPDYFrame] = []
            while let frame = try decoder.decode(&buffer) { frames.append(frame) }
            buffer.writeImmutableBuffer(whole.getSlice(at: split, length: whole.readableBytes - split)!)
            while let frame = try decoder.decode(&buffer) { frames.append(frame) }
            #expect(frames.count == 2, "split at \(split)")
        }
    }

    @Test func manyHeaderBlocksStayInStep() throws {
        let encoder = SPDYFrameEncoder()
        let decoder = SPDYFrameDecoder()
        for request in 0..<200 {
            let headers: SPDYHeaders = ["streamtype": request % 2 == 0 ? "error" : "data", "port": "\(1000 + request)", "requestid": "\(request / 2)"]
            var bytes = encoder.encode(.synStream(streamID: UInt32(2 * request + 1), headers: headers))
            #expect(try decoder.decode(&bytes) == .synStream(streamID: UInt32(2 * request + 1), headers: headers))
        }
    }

    @Test(arguments: [
        ("80 03 00 0a 00 00 00 00", "unknown control frame type 10"),
        ("80 03 00 06 00 00 00 04 00 00 00 00", "PING with id 0"),
        ("80 03 00 06 01 00 00 04 00 00 00 01", "PING must be 4 bytes without flags"),
        ("80 03 00 03 00 00 00 08 00 00 00 03 00 00 00 00", "invalid status 0"),
        ("80 03 00 07 00 00 00 04 00 00 00 00", "GOAWAY must be 8 bytes"),
        ("80 03 00 01 00 00 00 04 00 00 00 01", "shorter than 10"),
        ("80 03 00 04 00 00 00 08 00 00 00 05 00 00 00 00", "entry count"),
        ("80 03 00 02 00 00 00 08 00 00 00 01 de ad be ef", "header block"),
    ])
    func malformedFramesAreProtocolErrors(hex: String, expected: String) {
        var buffer = Self.bytes(hex)
        #expect {
            _ = try SPDYFrameDecoder().decode(&buffer)
        } throws: { error in
            (error as? SPDYError)?.message.contains(expected) == true
        }
    }

    @Test func headerBlocksRefuseWhatSpdystreamRefuses() throws {
        func block(_ pairs: [(String, String)], count: UInt32? = nil) -> ByteBuffer {
            var buffer = ByteBuffer()
            buffer.writeInteger(count ?? UInt32(pairs.count))
            for (name, value) in pairs {
                buffer.writeInteger(UInt32(name.utf8.count))
                buffer.writeString(name)
                buffer.writeInteger(UInt32(value.utf8.count))
                buffer.writeString(value)
            }
            return buffer
        }
        #expect(throws: SPDYError.self) { try SPDYHeaders(decoding: block([("Port", "80")])) }
        #expect(throws: SPDYError.self) { try SPDYHeaders(decoding: block([("port", "80"), ("port", "81")])) }
        #expect(throws: SPDYError.self) { try SPDYHeaders(decoding: block([("port", "80")], count: 2)) }
        #expect(throws: SPDYError.self) { try SPDYHeaders(decoding: block([("", "80")])) }
        #expect(try SPDYHeaders(decoding: block([("port", "80"), ("streamtype", "data")])) == ["port": "80", "streamtype": "data"])
    }

    @Test func namesAreLowerCasedBeforeTheirLengthIsWritten() throws {
        // The Kelvin sign is 3 bytes and lower-cases to "k", 1 byte: a length taken before
        // lower-casing would run 2 bytes into the next pair.
        let headers = SPDYHeaders([(name: "\u{212A}ey", value: "v"), (name: "Port", value: "80")])
        var block = headers.encoded()
        #expect(try SPDYHeaders(decoding: block) == SPDYHeaders([(name: "key", value: "v"), (name: "port", value: "80")]))
        #expect(block.readInteger(as: UInt32.self) == 2)
        #expect(block.readInteger(as: UInt32.self) == 3)
    }

    /// Random bytes behind a valid frame header: every outcome is a frame, a wait, or an
    /// SPDYError.
    @Test func fuzzedFramesGiveCleanErrors() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let decoder = SPDYFrameDecoder()
            let length = Int.random(in: 0..<64, using: &generator)
            var buffer = ByteBuffer()
            buffer.writeInteger(UInt16(0x8003))
            buffer.writeInteger(UInt16.random(in: 1...10, using: &generator))
            buffer.writeInteger(UInt32(UInt8.random(in: 0...3, using: &generator)) << 24 | UInt32(length))
            buffer.writeBytes((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            do {
                _ = try decoder.decode(&buffer)
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
    }
    /// A DATA frame that spans reads reaches the session in parts as its bytes arrive: the
    /// same stream, the same bytes in order, the FIN on the last part only; the frame behind
    /// it decodes as usual.
    @Test func aDataFrameSpanningReadsIsHandedOnAsItArrives() throws {
        let payload = ByteBuffer(bytes: (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var wire = SPDYFrameEncoder().encode(.data(streamID: 5, fin: true, payload: payload))
        wire.writeImmutableBuffer(SPDYFrameEncoder().encode(.ping(id: 3)))
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SPDYFrameDecoder()))
        var received = ByteBuffer()
        var fins: [Bool] = []
        var after: [SPDYFrame] = []
        // Reads that cut the header, then the payload, then the PING behind it.
        for size in [3, 505, 7, 4000, wire.readableBytes] {
            guard let piece = wire.readSlice(length: min(size, wire.readableBytes)) else { break }
            try channel.writeInbound(piece)
            while let frame = try channel.readInbound(as: SPDYFrame.self) {
                if case .data(let streamID, let fin, var part) = frame {
                    #expect(streamID == 5)
                    received.writeBuffer(&part)
                    fins.append(fin)
                } else {
                    after.append(frame)
                }
            }
            if size == 505 { #expect(received.readableBytes == 500, "the payload read so far is handed on before the rest arrives") }
        }
        #expect(received == payload)
        #expect(fins.last == true && fins.dropLast().allSatisfy { !$0 })
        #expect(after == [.ping(id: 3)])
        _ = try channel.finish()
    }
}
