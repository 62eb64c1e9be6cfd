import NIOCore
import RelayProtocol
import Testing

@Suite struct DatagramFramingTests {
    @Test func datagramsOfEverySizeRoundTripBackToBack() throws {
        let sizes = [0, 1, 2, 511, 1500, 65507]
        var stream = ByteBuffer()
        for size in sizes {
            DatagramFraming.write(ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }), to: &stream)
        }
        for size in sizes {
            let datagram = try #require(try DatagramFraming.read(from: &stream))
            #expect(Array(datagram.readableBytesView) == (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) })
        }
        #expect(try DatagramFraming.read(from: &stream) == nil)
    }

    @Test func aPartialFrameWaitsAndLeavesTheStreamInStep() throws {
        var whole = ByteBuffer()
        DatagramFraming.write(ByteBuffer(string: "hello"), to: &whole)
        DatagramFraming.write(ByteBuffer(string: "world"), to: &whole)
        let bytes = Array(whole.readableBytesView)
        for cut in 0..<bytes.count {
            var stream = ByteBuffer(bytes: bytes[..<cut])
            var seen: [String] = []
            while let datagram = try DatagramFraming.read(from: &stream) { seen.append(String(buffer: datagram)) }
            stream.writeBytes(bytes[cut...])
            while let datagram = try DatagramFraming.read(from: &stream) { seen.append(String(buffer: datagram)) }
            #expect(seen == ["hello", "world"])
        }
    }

    @Test func aLengthNoUDPDatagramCanHaveIsAnError() {
        var stream = ByteBuffer(bytes: [0xFF, 0xFF])
        #expect(throws: RelayProtocolError.self) { try DatagramFraming.read(from: &stream) }
    }
}

@Suite struct DatagramReaderTests {
    /// Datagrams handed out stay as they were while later reads arrive, however the stream is
    /// cut; the status byte comes first.
    @Test func datagramsSurviveLaterReadsAtEveryCut() throws {
        var stream = ByteBuffer(bytes: [RelayStatus.ok.rawValue])
        for text in ["alpha", "", "gamma-gamma"] { DatagramFraming.write(ByteBuffer(string: text), to: &stream) }
        let bytes = Array(stream.readableBytesView)
        for cut in 0...bytes.count {
            var reader = DatagramFraming.Reader()
            var status: RelayStatus?
            var out: [ByteBuffer] = []
            for piece in [bytes[..<cut], bytes[cut...]] {
                reader.append(ByteBuffer(bytes: piece))
                if status == nil { status = reader.readStatus() }
                while status != nil, let datagram = try reader.next() { out.append(datagram) }
            }
            #expect(status == .ok)
            #expect(out.map { String(buffer: $0) } == ["alpha", "", "gamma-gamma"])
        }
        #expect(RelayStatus(byte: 200) == .malformedHeader)
    }
}
