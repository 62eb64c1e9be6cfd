import NIOCore
import NIOEmbedded
import RelayProtocol
import Testing

@testable import Forwarding

/// kfwd's side of the relay framing, fed bytes as the relay's stream would deliver them.
@Suite struct RelayDecodingTests {
    /// A flow whose inner pipe end is `inner`, answering to a peer through `socket`.
    final class Harness {
        final class Record {
            var closed = 0
            var refusals: [String] = []
        }

        let socket = EmbeddedChannel()
        let inner = EmbeddedChannel()
        let flow: UDPFlow
        let record = Record()

        init() throws {
            let record = self.record
            self.flow = UDPFlow(
                peer: try SocketAddress(ipAddress: "127.0.0.1", port: 40000), onClose: { _ in record.closed += 1 },
                onRefused: { record.refusals.append($0) }
            )
            try self.inner.pipeline.syncOperations.addHandler(RelayDatagramHandler(flow: self.flow, socket: self.socket))
            // Active, as the pipe end is once the flow starts.
            try self.inner.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        /// The datagrams sent to the peer so far.
        func sent() throws -> [String] {
            var out: [String] = []
            while let envelope = try self.socket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) {
                #expect(envelope.remoteAddress == self.flow.peer)
                out.append(String(buffer: envelope.data))
            }
            return out
        }
    }

    @Test func framesAfterTheStatusReachThePeerHoweverTheBytesAreSplit() throws {
        var stream = ByteBuffer(bytes: [RelayStatus.ok.rawValue])
        for text in ["one", "", "three"] { DatagramFraming.write(ByteBuffer(string: text), to: &stream) }
        let bytes = Array(stream.readableBytesView)
        for cut in 0...bytes.count {
            let harness = try Harness()
            try harness.inner.writeInbound(ByteBuffer(bytes: bytes[..<cut]))
            try harness.inner.writeInbound(ByteBuffer(bytes: bytes[cut...]))
            #expect(try harness.sent() == ["one", "", "three"])
            #expect(harness.inner.isActive)
            #expect(harness.record.closed == 0)
        }
    }

    @Test func aRefusalClosesTheFlowAndSaysWhy() throws {
        let harness = try Harness()
        try harness.inner.writeInbound(ByteBuffer(bytes: [RelayStatus.targetNotAllowed.rawValue]))
        #expect(!harness.inner.isActive)
        #expect(harness.record.closed == 1)
        #expect(harness.record.refusals.count == 1 && harness.record.refusals[0].contains("not started for this target"))
    }

    /// Random frames after an `ok`, some with a length no datagram can have: what the spec says
    /// parses reaches the peer, the impossible length closes that flow (once), and another
    /// flow carries on.
    @Test func fuzzedStreamsEitherDeliverOrCloseTheirFlowOnly() throws {
        var generator = SystemRandomNumberGenerator()
        var closedFlows = 0
        for round in 0..<500 {
            let harness = try Harness()
            let other = try Harness()
            var bytes: [UInt8] = [0]
            var expected: [[UInt8]] = []
            var broken = false
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                if round % 3 == 0, Int.random(in: 0..<4, using: &generator) == 0 {
                    // 65508...65535: one byte too many for UDP, or more.
                    let length = UInt16.random(in: 65508...65535, using: &generator)
                    bytes += [UInt8(length >> 8), UInt8(length & 0xFF)]
                    broken = true
                    break
                }
                let payload = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
                expected.append(payload)
            }
            // Random trailing bytes: at most a partial frame the flow keeps waiting on.
            if !broken { bytes += (0..<Int.random(in: 0...1, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) } }
            // A closed flow may reject the rest of the write: that is the outcome under test.
            _ = try? harness.inner.writeInbound(ByteBuffer(bytes: bytes))
            var delivered: [[UInt8]] = []
            while let envelope = try harness.socket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) {
                delivered.append(Array(envelope.data.readableBytesView))
            }
            #expect(delivered == expected)
            #expect(harness.inner.isActive == !broken)
            #expect(harness.record.closed == (broken ? 1 : 0))
            if broken { closedFlows += 1 }
            var good = ByteBuffer(bytes: [0])
            DatagramFraming.write(ByteBuffer(string: "fine"), to: &good)
            try other.inner.writeInbound(good)
            #expect(try other.sent() == ["fine"])
        }
        #expect(closedFlows > 20)
    }
}
