import Foundation
import KfwdVersion
import NIOCore
import NIOPosix
import RelayProtocol
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// kfwd-relay on its own, as a pod runs it: its environment, its port, and clients that do not
/// all know the secret.
@Suite struct RelayProcessTests {
    /// A UDP echo server on loopback for the relay to reach.
    static func withUDPEcho<T: Sendable>(host: String = "127.0.0.1", _ body: (Int) async throws -> T) async throws -> T {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
            }
            .bind(host: host, port: 0).get()
        defer { channel.close(promise: nil) }
        return try await body(channel.localAddress!.port!)
    }

    final class Echo: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(data, promise: nil)
        }
    }

    /// Runs kfwd-relay with `secret` and `targets`, and `body` with its port and output.
    static func withRelay<T: Sendable>(
        secret: String?, targets: String, environment: [String: String] = [:], _ body: @escaping @Sendable (Int, OutputLines) async throws -> T
    ) async throws -> (value: T, lines: [String], status: TerminationStatus) {
        var variables = ["KFWD_RELAY_TARGETS": targets]
        if let secret { variables["KFWD_RELAY_SECRET"] = secret }
        variables.merge(environment) { $1 }
        return try await runLongLived(.path(FilePath(kfwdRelayPath)), ["--listen", "127.0.0.1:0"], environment: variables) { lines in
            guard let line = await lines.first(where: { $0.contains("listening on 127.0.0.1:") }),
                let port = Int(line.split(separator: "127.0.0.1:").last?.prefix { $0.isNumber } ?? "")
            else { throw KubeSimTestError("kfwd-relay did not start: \(lines.all)") }
            return try await body(port, lines)
        }
    }

    /// Sends `bytes` on a new stream and reads until the relay closes it (or `limit` bytes).
    static func exchange(_ port: Int, _ bytes: ByteBuffer, halfClose: Bool = false, limit: Int = 1 << 20) async throws -> [UInt8] {
        let channel = try await EchoClient.connect(port: port, halfClosure: halfClose)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(bytes)
            if halfClose { outbound.finish() }
            var received: [UInt8] = []
            for try await buffer in inbound {
                received += buffer.readableBytesView
                if received.count >= limit { break }
            }
            return received
        }
    }

    @Test func aWrongSecretAndATargetNotGivenAreRefusedAndTheRightOnesServed() async throws {
        try await Self.withUDPEcho { echo in
            let secret = RelaySecret.generate()
            let allowed = try RelayTarget(host: "127.0.0.1", port: echo)
            let (answers, lines, status) = try await Self.withRelay(secret: secret, targets: "udp/\(allowed)") { port, _ in
                var good = RelayHeader(.udp, target: allowed, secret: secret).bytes
                DatagramFraming.write(ByteBuffer(string: "ping"), to: &good)
                return [
                    try await Self.exchange(port, RelayHeader(.udp, target: allowed, secret: "not-the-secret").bytes),
                    try await Self.exchange(port, RelayHeader(.udp, target: try RelayTarget(host: "127.0.0.1", port: echo + 1), secret: secret).bytes),
                    try await Self.exchange(port, RelayHeader(.tcp, target: allowed, secret: secret).bytes),
                    try await Self.exchange(port, good, limit: 1 + 2 + 4),
                ]
            }
            #expect(answers[0] == [RelayStatus.badSecret.rawValue])
            #expect(answers[1] == [RelayStatus.targetNotAllowed.rawValue])
            #expect(answers[2] == [RelayStatus.targetNotAllowed.rawValue], "udp/ allows UDP only")
            #expect(answers[3] == [0, 0, 4] + Array("ping".utf8))
            #expect(status.isSuccess, "SIGTERM: a clean exit")
            #expect(!lines.joined().contains(secret), "the secret is never logged")
            #expect(lines.contains { $0.contains("flow udp 127.0.0.1:\(echo)") && $0.contains("1 datagrams in, 1 out") })
        }
    }

    /// As kfwd deploys it: no secret in its environment, so that none sits in its pod spec. The
    /// first presence stream claims it; nothing before that, and nobody after that with another
    /// secret, is served.
    @Test func withoutASecretTheFirstPresenceStreamOwnsTheRelay() async throws {
        try await Self.withUDPEcho { echo in
            let owner = RelaySecret.generate()
            let target = try RelayTarget(host: "127.0.0.1", port: echo)
            let (answers, lines, status) = try await Self.withRelay(secret: nil, targets: "udp/\(target)") { port, _ in
                var owned = RelayHeader(.udp, target: target, secret: owner).bytes
                DatagramFraming.write(ByteBuffer(string: "ping"), to: &owned)
                let check = try await runCommand(kfwdRelayPath, ["--check", "--listen", "127.0.0.1:\(port)"], environment: [:])
                return [
                    try await Self.exchange(port, owned),
                    try await Self.exchange(port, RelayHeader.presence(secret: "short").bytes),
                    try await Self.exchange(port, RelayHeader.presence(secret: owner).bytes, limit: 1),
                    try await Self.exchange(port, RelayHeader.presence(secret: RelaySecret.generate()).bytes),
                    try await Self.exchange(port, RelayHeader(.udp, target: target, secret: RelaySecret.generate()).bytes),
                    try await Self.exchange(port, owned, limit: 1 + 2 + 4),
                    try await Self.exchange(port, RelayHeader.presence(secret: owner).bytes, limit: 1),
                    check.status == .exited(0) ? [1] : [0],
                ]
            }
            #expect(answers[0] == [RelayStatus.badSecret.rawValue], "traffic before a claim is refused")
            #expect(answers[1] == [RelayStatus.badSecret.rawValue], "a secret too short to be kfwd's cannot claim")
            #expect(answers[2] == [RelayStatus.ok.rawValue], "the first presence stream claims the relay")
            #expect(answers[3] == [RelayStatus.badSecret.rawValue], "a second owner is refused")
            #expect(answers[4] == [RelayStatus.badSecret.rawValue], "and so is traffic with another secret")
            #expect(answers[5] == [0, 0, 4] + Array("ping".utf8), "the owner's traffic flows")
            #expect(answers[6] == [RelayStatus.ok.rawValue], "the owner's presence stream comes back")
            #expect(answers[7] == [1], "--check succeeds against a listening relay")
            #expect(status.isSuccess)
            #expect(lines.contains { $0.contains("waiting for its owner's presence stream") })
            #expect(lines.filter { $0.contains("claimed by the presence stream") }.count == 1)
            #expect(!lines.joined().contains(owner), "the secret is never logged")
        }
        let closed = try await runCommand(kfwdRelayPath, ["--check", "--listen", "127.0.0.1:1"], environment: [:])
        #expect(closed.status == .exited(1), "--check fails where nothing listens")
        let version = try await runCommand(kfwdRelayPath, ["--version"], environment: [:])
        #expect(version.stdout.hasPrefix("kfwd-relay \(KfwdVersion.current) (relay protocol \(RelayHeader.version))"))
    }

    /// A target by name is resolved before its flow opens; the datagram that came with the
    /// header goes out as soon as it does, not with the client's next read.
    @Test func aDatagramSentWithTheHeaderToANamedTargetGoesOutAtOnce() async throws {
        // Where the relay's resolver will send it: the first address of the name.
        let address = try SocketAddress.makeAddressResolvingHost("localhost", port: 1).ipAddress ?? "127.0.0.1"
        try await Self.withUDPEcho(host: address) { echo in
            let secret = RelaySecret.generate()
            let target = try RelayTarget(host: "localhost", port: echo)
            let (answer, _, _) = try await Self.withRelay(secret: secret, targets: "udp/\(target)") { port, _ in
                var header = RelayHeader(.udp, target: target, secret: secret).bytes
                DatagramFraming.write(ByteBuffer(string: "ping"), to: &header)
                let bytes = header
                return try await withinTimeLimit(.seconds(5)) { try await Self.exchange(port, bytes, limit: 1 + 2 + 4) }
            }
            #expect(answer == [0, 0, 4] + Array("ping".utf8), "the echo within 5 s")
        }
    }

    @Test func withNoClientForTheIdlePeriodTheRelayExitsByItself() async throws {
        let (_, lines, status) = try await Self.withRelay(secret: "s", targets: "", environment: ["KFWD_RELAY_IDLE_EXIT_SECONDS": "0.5"]) { _, lines in
            await lines.untilEnd(timeout: .seconds(10))
        }
        #expect(status.isSuccess)
        #expect(lines.contains { $0.contains("no client connected for the idle period") })
    }

    /// Random bytes on many streams: each ends with a refusal (or just a close), the relay keeps
    /// running, and a flow opened before them still echoes after them.
    @Test func fuzzedStreamsEndCleanlyAndAnotherFlowCarriesOn() async throws {
        try await Self.withUDPEcho { echo in
            let secret = RelaySecret.generate()
            let target = try RelayTarget(host: "127.0.0.1", port: echo)
            let (outcome, _, status) = try await Self.withRelay(secret: secret, targets: "udp/\(target)") { port, _ in
                let flow = try await EchoClient.connect(port: port)
                return try await flow.executeThenClose { inbound, outbound in
                    var responses = inbound.makeAsyncIterator()
                    func roundTrip(_ text: String) async throws -> [UInt8] {
                        var frame = ByteBuffer()
                        DatagramFraming.write(ByteBuffer(string: text), to: &frame)
                        try await outbound.write(frame)
                        var got: [UInt8] = []
                        while got.count < 2 + text.utf8.count, let buffer = try await responses.next() { got += buffer.readableBytesView }
                        return got
                    }
                    try await outbound.write(RelayHeader(.udp, target: target, secret: secret).bytes)
                    let before = try await roundTrip("before")
                    var generator = SystemRandomNumberGenerator()
                    var statuses: [UInt8] = []
                    for round in 0..<200 {
                        var bytes = (0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                        if round % 2 == 0 { bytes[0] = RelayHeader.version }
                        let answer = try await Self.exchange(port, ByteBuffer(bytes: bytes), halfClose: true)
                        #expect(answer.count <= 1, "a refused stream gets one status byte, then the close")
                        statuses += answer
                    }
                    let after = try await roundTrip("after")
                    return (before, after, statuses)
                }
            }
            #expect(outcome.0 == [0] + [0, 6] + Array("before".utf8))
            #expect(outcome.1 == [0, 5] + Array("after".utf8))
            #expect(!outcome.2.contains(RelayStatus.ok.rawValue))
            #expect(outcome.2.contains(RelayStatus.unsupportedVersion.rawValue))
            #expect(status.isSuccess)
        }
    }
}
