import NIOCore
import RelayProtocol
import Testing

@Suite struct RelayHeaderTests {
    /// The worked example of docs/relay-protocol.md, byte for byte.
    @Test func theDocumentedExampleEncodesAndDecodesByteForByte() throws {
        let header = RelayHeader(.udp, target: try RelayTarget(host: "10.96.0.10", port: 53), secret: "s3cret")
        let golden: [UInt8] = [
            0x01, 0x00, 0x0F,  // version 1, 15 bytes follow
            0x02,  // udp
            0x00, 0x35,  // port 53
            0x01, 0x0A, 0x60, 0x00, 0x0A,  // IPv4 10.96.0.10
            0x06, 0x73, 0x33, 0x63, 0x72, 0x65, 0x74,  // secret "s3cret"
        ]
        #expect(Array(header.bytes.readableBytesView) == golden)
        var buffer = ByteBuffer(bytes: golden)
        #expect(try RelayHeader.read(from: &buffer) == header)
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: ["10.0.0.5", "fd00::5", "db.internal", "my-service.shop.svc.cluster.local"])
    func everyAddressKindRoundTrips(host: String) throws {
        for transport in [RelayTransport.tcp, .udp] {
            let header = RelayHeader(transport, target: try RelayTarget(host: host, port: 5432), secret: RelaySecret.generate())
            var buffer = header.bytes
            buffer.writeString("payload after the header")
            #expect(try RelayHeader.read(from: &buffer) == header)
            #expect(buffer.readString(length: buffer.readableBytes) == "payload after the header")
        }
        var presence = RelayHeader.presence(secret: "x").bytes
        #expect(try RelayHeader.read(from: &presence) == .presence(secret: "x"))
    }

    @Test func aHeaderSplitAtAnyByteWaitsForTheRestAndConsumesNothing() throws {
        let bytes = Array(RelayHeader(.tcp, target: try RelayTarget(host: "db.internal", port: 5432), secret: "secret").bytes.readableBytesView)
        for cut in 0..<bytes.count {
            var partial = ByteBuffer(bytes: bytes[..<cut])
            #expect(try RelayHeader.read(from: &partial) == nil)
            #expect(partial.readableBytes == cut)
        }
    }

    @Test func aWrongVersionIsRefusedFromItsFirstByte() {
        var buffer = ByteBuffer(bytes: [0x02])
        #expect(throws: RelayProtocolError.self) { try RelayHeader.read(from: &buffer) }
        do {
            _ = try RelayHeader.read(from: &buffer)
        } catch {
            #expect(error.status == .unsupportedVersion)
        }
    }

    @Test func malformedHeadersGetMalformedHeader() {
        let cases: [[UInt8]] = [
            [0x01, 0x04, 0x01],  // longer than allowed
            [0x01, 0x00, 0x00],  // empty
            [0x01, 0x00, 0x01, 0x09],  // unknown protocol
            [0x01, 0x00, 0x04, 0x01, 0x00, 0x50, 0x07],  // unknown address type
            [0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x01],  // port 0
            [0x01, 0x00, 0x03, 0x00, 0x00, 0x00],  // bytes after the (empty) secret
            [0x01, 0x00, 0x06, 0x01, 0x00, 0x50, 0x03, 0x01, 0x2F],  // host "/" ends inside
        ]
        for bytes in cases {
            var buffer = ByteBuffer(bytes: bytes)
            do {
                _ = try RelayHeader.read(from: &buffer)
                Issue.record("\(bytes) was accepted")
            } catch {
                #expect(error.status == .malformedHeader, "\(bytes): \(error)")
            }
        }
    }

    /// Random bytes give a header, "not yet", or a clean error: never a crash or a hang.
    @Test func fuzzedHeadersGiveCleanAnswers() {
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        var refused = 0
        for round in 0..<20_000 {
            var bytes = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Half the rounds start like a real header so that the decoder gets past the version.
            if round % 2 == 0, bytes.count >= 3 {
                bytes[0] = 1
                bytes[1] = 0
                bytes[2] = UInt8(bytes.count - 3)
            }
            var buffer = ByteBuffer(bytes: bytes)
            do {
                if try RelayHeader.read(from: &buffer) != nil { accepted += 1 }
            } catch {
                refused += 1
            }
        }
        #expect(refused > 10_000)
        #expect(accepted + refused <= 20_000)
    }
}
