import Foundation
import KubeSim
import NIOCore
import NIOPosix
import Testing

/// What the SPDY transports add: negotiation as kubectl does it, one session per pod carrying
/// many connections, a stalled reader that holds up no new connection, and the seed's demo
/// beside kubectl's own port-forward.
@Suite(.serialized) struct TransportTests {
    static let manifest = KubectlPortForwardTests.manifest

    private func forward(_ harness: SimHarness, _ arguments: [String]) -> [String] {
        ["forward"] + arguments + ["--kubeconfig", harness.kubeconfigPath]
    }


    private func readyEcho(_ harness: SimHarness) async throws {
        try await harness.sim.waitUntil { isReady($0.object("pods", name: "echo")) }
    }

    @Test func autoFallsBackFromTheTunnelToSPDYToWebSocketAsTheServerAllows() async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await self.readyEcho(harness)
            // (tunnel gate, SPDY through) -> what auto should settle on, and the upgrades it takes.
            let cases: [(Bool, Bool, String, [String])] = [
                (true, true, "tunnel", ["GET"]),
                (false, true, "spdy", ["GET", "POST"]),
                (false, false, "websocket", ["GET", "POST", "GET"]),
            ]
            for (tunnel, spdy, expected, upgrades) in cases {
                harness.sim.portForwardTunnel = tunnel
                harness.sim.portForwardSPDY = spdy
                let before = harness.sim.portForwardUpgrades.count
                let run = try await runKfwd(self.forward(harness, ["pod/echo", ":7000"])) { lines in
                    let port = try await forwardedPort(lines)
                    return try await EchoClient.roundTrip(port: port, count: 100_000, seed: 3)
                }
                #expect(run.value == 100_000, "\(expected): \(run.lines)")
                #expect(run.lines.contains { $0.hasPrefix("Transport: \(expected)") }, "\(run.lines)")
                #expect(Array(harness.sim.portForwardUpgrades.dropFirst(before)) == upgrades, "\(expected)")
            }
        }
    }

    @Test func aForcedTransportTheServerRefusesSaysWhich() async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await self.readyEcho(harness)
            harness.sim.portForwardTunnel = false
            let run = try await runKfwd(self.forward(harness, ["pod/echo", ":7000", "--transport", "tunnel"])) { lines in
                let port = try await forwardedPort(lines)
                let echoed = try? await EchoClient.roundTrip(port: port, count: 1000, seed: 4)
                _ = await lines.first { $0.hasPrefix("error:") }
                return echoed
            }
            #expect(run.value != 1000)
            // With the gate off the apiserver passes the tunnel's GET to the kubelet as a plain
            // WebSocket, which has no ports to forward.
            #expect(run.lines.contains { $0.hasPrefix("error: connection on local port") && $0.contains("was refused") && $0.contains("HTTP 400") }, "\(run.lines)")

            let bad = try await runKfwd(self.forward(harness, ["pod/echo", ":7000", "--transport", "http3"])) { lines in
                await lines.untilEnd()
            }
            #expect(!bad.status.isSuccess)
            #expect(bad.lines.contains { $0.contains("unknown transport 'http3': use auto, tunnel, spdy or websocket") }, "\(bad.lines)")
        }
    }

    @Test(arguments: ["spdy", "tunnel"])
    func oneSessionPerPodCarriesEveryConnection(transport: String) async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await self.readyEcho(harness)
            let run = try await runKfwd(self.forward(harness, ["pod/echo", ":7000", "--transport", transport])) { lines in
                let port = try await forwardedPort(lines)
                var matched = 0
                for index in 0..<30 { matched += try await EchoClient.roundTrip(port: port, count: 10_000, seed: index) == 10_000 ? 1 : 0 }
                matched += try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<30 { group.addTask { try await EchoClient.roundTrip(port: port, count: 50_000, seed: index) == 50_000 ? 1 : 0 } }
                    return try await group.reduce(0, +)
                }
                return matched
            }
            #expect(run.value == 60)
            // Sixty connections, one upgrade.
            #expect(harness.sim.portForwardUpgrades.count == 1, "\(harness.sim.portForwardUpgrades)")
        }
    }

    /// A peer that sends and half-closes at once (`printf … | nc`): the bytes and the end of
    /// input arrive before the stream is spliced and must still reach the pod, whose answer
    /// comes back before the connection ends.
    @Test(arguments: PortForwardTests.transports)
    func bytesAndAHalfCloseSentAtOnceAreDelivered(transport: String) async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await self.readyEcho(harness)
            let run = try await runKfwd(self.forward(harness, ["pod/echo", ":7000", "--transport", transport])) { lines in
                let port = try await forwardedPort(lines)
                let channel = try await EchoClient.connect(port: port, halfClosure: true)
                return try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "sent with the FIN"))
                    outbound.finish()
                    var answer = ""
                    for try await buffer in inbound { answer += String(buffer: buffer) }
                    return answer
                }
            }
            #expect(run.value == "sent with the FIN", "\(run.lines)")
        }
    }

    /// A local client that sends a lot and never reads: the pod's echo backs up, the session
    /// stops reading (SPDY has no per-stream flow control), and kfwd's memory stays bounded.
    /// A new connection meanwhile gets a new session instead of waiting behind the stalled one.
    @Test(arguments: ["spdy", "tunnel"])
    func aStalledReaderHoldsUpNoNewConnection(transport: String) async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await self.readyEcho(harness)
            let run = try await runKfwd(self.forward(harness, ["pod/echo", ":7000", "--transport", transport, "-v"])) { lines in
                let port = try await forwardedPort(lines)
                let writer = try await EchoClient.neverReading(port: port)
                defer { writer.cancel() }
                // The echo flows until kfwd holds the session back for the reader. A connection
                // opened before that shares the session's fate, as every SPDY client's does.
                guard await lines.first(where: { $0.hasPrefix("A local connection to pod echo is not reading") }) != nil else {
                    throw KubeSimTestError("kfwd never said the reader held its session back: \(lines.all)")
                }
                let echoed = try await EchoClient.roundTrip(port: port, count: 200_000, seed: 5)
                // The cluster's side: the first session is at a standstill, not read by kfwd.
                try await harness.sim.waitUntil(timeout: .seconds(60)) { $0.heldBackPortForwards == 1 }
                let rss = Self.residentMiB(of: "kfwd", port: port)
                return (echoed, rss)
            }
            let (echoed, rss) = run.value
            #expect(echoed == 200_000, "\(run.lines)")
            #expect(harness.sim.portForwardUpgrades.count == 2, "a second session for the new connection")
            if let rss { #expect(rss < 256, "kfwd holds \(rss) MiB with a stalled reader") }
        }
    }

    /// A session whose path goes silent (a dropped VPN) is found dead by its pings within two
    /// periods (5 s each on plain SPDY): its connections end rather than hang for TCP's
    /// minutes, and the forward dials a new session by itself, before any new connection.
    @Test func aSilentSessionIsFoundDeadAndReplaced() async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await self.readyEcho(harness)
            let run = try await runKfwd(self.forward(harness, ["-l", "app=echo", ":7000", "--transport", "spdy"])) { lines in
                let port = try await forwardedPort(lines)
                let open = try await EchoClient.connect(port: port)
                let endedAfter = try await open.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "before"))
                    var iterator = inbound.makeAsyncIterator()
                    _ = try await iterator.next()
                    harness.sim.silenceConnections()
                    let silenced = ContinuousClock.now
                    while try await iterator.next() != nil {}
                    return ContinuousClock.now - silenced
                }
                // The session kept for the pod is dialed again without waiting for a connection.
                try await harness.sim.waitUntil(timeout: .seconds(10)) { $0.portForwardUpgrades.count == 2 }
                let after = try await EchoClient.roundTrip(port: port, count: 10_000, seed: 6)
                return (endedAfter, after)
            }
            let (endedAfter, after) = run.value
            // Two 5 s periods after the last echo, checked at the next ping (up to 15 s), with
            // room for a loaded machine; TCP alone would take minutes.
            #expect(endedAfter < .seconds(20), "the connection on the silent session ended after \(endedAfter)")
            #expect(after == 10_000, "\(run.lines)")
            #expect(run.lines.contains { $0.contains("went silent") }, "\(run.lines)")
            #expect(harness.sim.portForwardUpgrades.count == 2, "one session replaced by one")
        }
    }

    /// VmRSS of the kfwd process listening on `port`, from /proc (nil where there is none).
    private static func residentMiB(of name: String, port: Int) -> Int? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for pid in entries where Int(pid) != nil {
            guard let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                command.split(separator: "\0").first?.hasSuffix(name) == true, command.contains(":7000"),
                let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
            else { continue }
            return kilobytes / 1024
        }
        return nil
    }

    /// The seed's demo side by side: kubectl port-forward (its default tunnel) and kfwd (auto)
    /// forward the same Service while every pod is force-deleted. kubectl dies on the first
    /// connection after the deletion, as the seed says; kfwd loses at most one request.
    @Test func besideKubectlUnderForcedDeletion() async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let environment = ["KUBECONFIG": harness.kubeconfigPath, "HOME": harness.directory.path]
            let kubectl = try await runLongLived(.name("kubectl"), ["port-forward", "svc/web", ":80"], environment: environment) { kubectlLines in
                let kubectlPort = try await forwardedPort(kubectlLines)
                let kfwd = try await runKfwd(self.forward(harness, ["svc/web", ":80"])) { lines in
                    let port = try await forwardedPort(lines)
                    let (kfwdLoop, kubectlLoop) = (RequestLoop(port: port), RequestLoop(port: kubectlPort))
                    let (kfwdResults, (kubectlResults, _)) = try await kfwdLoop.running {
                        try await kubectlLoop.running {
                            try await kfwdLoop.waitUntil { $0.filter(\.ok).count >= 3 }
                            try await kubectlLoop.waitUntil { $0.filter(\.ok).count >= 3 }
                            let deleted = try await runCommand("kubectl", ["delete", "pods", "-l", "app=web", "--force", "--grace-period=0"], environment: environment)
                            #expect(deleted.succeeded, "\(deleted.stderr)")
                            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
                            // A curl loop keeps going through kfwd, however loaded the machine.
                            let ready = ContinuousClock.now
                            try await kfwdLoop.waitUntil { $0.filter { $0.start > ready }.count >= 5 }
                        }
                    }
                    return (kfwdResults, kubectlResults)
                }
                // kubectl ends by itself once a connection fails.
                await kubectlLines.untilEnd(timeout: .seconds(10))
                return kfwd
            }
            let (kfwdResults, kubectlResults) = kubectl.value.value
            #expect(kfwdResults.filter { !$0.ok }.count <= 1, "kfwd: \(kfwdResults.filter { !$0.ok }) \(kubectl.value.lines.filter { $0.hasPrefix("error") })")
            // kubectl served until the deletion, then lost its pod and exited.
            #expect(kubectlResults.first?.ok == true)
            #expect(kubectlResults.last?.ok == false)
            #expect(kubectl.lines.contains { $0.contains("lost connection to pod") }, "\(kubectl.lines)")
            #expect(!kubectl.status.isSuccess)
        }
    }
}
