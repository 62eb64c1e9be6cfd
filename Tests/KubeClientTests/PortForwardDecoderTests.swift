import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import KubeClient

/// The v4 port-forward reader against malformed input: every case ends in a clear error or is
/// skipped, never a crash or a hang.
@Suite struct PortForwardDecoderTests {
    private func message(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    @Test func prefixesOpenTheStreamAndDataFollows() throws {
        var decoder = PortForwardMessageDecoder(port: 8080)
        #expect(try decoder.decode(self.message([0, 0x90, 0x1F])) == nil)
        #expect(try decoder.decode(self.message([1, 0x90, 0x1F])) == .ready)
        #expect(try decoder.decode(self.message([0, 0x68, 0x69])) == .data(ByteBuffer(string: "hi")))
        #expect(try decoder.decode(self.message([1] + Array("boom".utf8))) == .errorText("boom"))
        // Empty messages, and empty payloads on a channel, carry nothing.
        #expect(try decoder.decode(self.message([])) == nil)
        #expect(try decoder.decode(self.message([0])) == nil)
    }

    @Test(arguments: [
        ([0, 0x91, 0x1F], "announced port 8081"),  // wrong port
        ([0, 0x90], "got 1 bytes"),  // truncated prefix
        ([0, 0x90, 0x1F, 0x00], "got 3 bytes"),  // prefix merged with data
        ([2, 0x90, 0x1F], "channel 2"),  // unknown channel
        ([255, 0x00], "channel 255"),  // the v5 close signal
    ] as [([UInt8], String)])
    func malformedFirstMessagesAreProtocolErrors(bytes: [UInt8], phrase: String) throws {
        var decoder = PortForwardMessageDecoder(port: 8080)
        let error = #expect(throws: PortForwardError.self) { try decoder.decode(self.message(bytes)) }
        #expect(error?.kind == .protocolViolation)
        #expect(error?.message.contains(phrase) == true, "\(error?.message ?? "")")
    }

    @Test func randomMessagesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var decoder = PortForwardMessageDecoder(port: UInt16.random(in: 1...65535, using: &generator))
            for _ in 0..<4 {
                let bytes = (0..<Int.random(in: 0...6, using: &generator)).map { _ in UInt8.random(in: 0...3, using: &generator) }
                if (try? decoder.decode(self.message(bytes))) == nil { continue }
            }
        }
    }

    /// Raw WebSocket bytes through NIO's frame decoder and the port-forward handler.
    private func channel(port: Int) throws -> (EmbeddedChannel, EventLoopFuture<Void>) {
        let channel = EmbeddedChannel()
        let ready = channel.eventLoop.makePromise(of: Void.self)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.pipeline.syncOperations.addHandler(
            WebSocketPortForwardClientHandler(port: port, ready: ready, describe: { PortForwardError(kind: .remote, message: $0) })
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        return (channel, ready.futureResult)
    }

    @Test func truncatedFramesWaitForTheRestThenWork() throws {
        let (channel, ready) = try self.channel(port: 8080)
        // 82 03 00 90 1F and 82 03 01 90 1F, delivered a byte at a time.
        for byte in [0x82, 0x03, 0x00, 0x90, 0x1F, 0x82, 0x03, 0x01, 0x90] as [UInt8] {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            #expect(channel.isActive)
        }
        let opened = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
        ready.whenSuccess { opened.value = true }
        #expect(!opened.value)
        try channel.writeInbound(ByteBuffer(bytes: [0x1F]))
        #expect(opened.value)
        _ = try? channel.finish()
    }

    @Test func aWrongPortPrefixClosesTheStreamWithAClearError() throws {
        let (channel, ready) = try self.channel(port: 8080)
        try channel.writeInbound(ByteBuffer(bytes: [0x82, 0x03, 0x00, 0x50, 0x00]))
        let failure = NIOLoopBoundBox<(any Error)?>(nil, eventLoop: channel.eventLoop)
        ready.whenFailure { failure.value = $0 }
        #expect((failure.value as? PortForwardError)?.kind == .protocolViolation)
        #expect(!channel.isActive)
    }

    @Test func errorChannelTextBecomesTheStreamError() throws {
        let (channel, _) = try self.channel(port: 9999)
        try channel.writeInbound(ByteBuffer(bytes: [0x82, 0x03, 0x00, 0x0F, 0x27, 0x82, 0x03, 0x01, 0x0F, 0x27]))
        let text = Array("error forwarding port 9999: dial tcp4 127.0.0.1:9999: connect: connection refused".utf8)
        try channel.writeInbound(ByteBuffer(bytes: [0x82, UInt8(text.count + 1), 0x01] + text))
        try channel.writeInbound(ByteBuffer(bytes: [0x88, 0x02, 0x03, 0xE8]))
        let handler = try channel.pipeline.syncOperations.handler(type: WebSocketPortForwardClientHandler.self)
        _ = try? channel.finish()
        #expect(handler.failure?.kind == .remote)
        #expect(handler.failure?.message.contains("connection refused") == true)
    }
}
