import Foundation
import KubeClient
import KubeSim
import NIOCore
import NIOPosix
import Testing

/// Port-forward over WebSocket v4: KubeSim judged by the Python client and curl, and
/// `kfwd forward` carrying real traffic to real pod backends over each transport.
@Suite(.serialized) struct PortForwardTests {
    static let manifest = """
        apiVersion: v1
        kind: Pod
        metadata: {name: echo, namespace: default}
        spec:
          containers: [{name: echo, image: kubesim/tcp-echo, ports: [{containerPort: 7000}]}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: default}
        spec:
          containers: [{name: web, image: kubesim/http-echo, ports: [{containerPort: 8080}]}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: broken, namespace: default}
        spec:
          containers: [{name: broken, image: registry.invalid/nothing:1}]
        """

    private static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("interop")

    private func running(_ body: @escaping @Sendable (SimHarness) async throws -> Void) async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await harness.sim.waitUntil { sim in
                ["echo", "web"].allSatisfy { name in sim.object("pods", name: name).map { isReady($0) } ?? false }
            }
            try await body(harness)
        }
    }

    private func forward(_ harness: SimHarness, _ arguments: [String], transport: String = "auto") -> [String] {
        ["forward"] + arguments + ["--kubeconfig", harness.kubeconfigPath, "--transport", transport]
    }

    /// Every transport kfwd can be forced to use carries the same suite.
    static let transports = ["websocket", "spdy", "tunnel"]

    // MARK: KubeSim as a cluster

    @Test func pythonClientForwardsToAPodAndReadsTheErrorChannel() async throws {
        try await self.running { harness in
            let result = try await runCommand(
                "python3", [Self.interop.appendingPathComponent("python_portforward_check.py").path, harness.kubeconfigPath, "default", "web", "8080", "9999"]
            )
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
            #expect(lines.contains("status HTTP/1.1 200 OK"))
            #expect(lines.contains("body pod: web"))
            #expect(lines.contains { $0.hasPrefix("error error forwarding port 9999 to pod ") && $0.contains("connection refused") })
        }
    }

    @Test func refusedUpgradesAreTypedErrors() async throws {
        try await self.running { harness in
            try await KubeClient.withClient(context: try harness.context()) { client in
                let transport = WebSocketPortForwardTransport(client: client)
                let loop = NIOSingletons.posixEventLoopGroup.next()
                let missing = await #expect(throws: PortForwardError.self) { _ = try await transport.open(namespace: "default", pod: "nope", port: 80, on: loop) }
                #expect(missing?.kind == .podNotFound)
                #expect(missing?.httpStatus == 404)
                #expect(missing?.message.contains("pod default/nope not found") == true)
                let pending = await #expect(throws: PortForwardError.self) { _ = try await transport.open(namespace: "default", pod: "broken", port: 80, on: loop) }
                #expect(pending?.kind == .podNotRunning)
                #expect(pending?.httpStatus == 400)
                // Without ports, as the kubelet answers.
                let noPorts = await #expect(throws: KubeError.self) { _ = try await client.send(.GET, "/api/v1/namespaces/default/pods/web/portforward") }
                #expect(noPorts?.httpStatus == 400)
                #expect(noPorts?.message.contains(#"query parameter "port" is required"#) == true)
            }
            // An exec-only subprotocol gets x/net/websocket's empty 403; curl is the client.
            let curl = try await runCommand("curl", [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", try harness.write("ca.pem", harness.sim.certificateAuthority.certificatePEM),
                "-H", "Authorization: Bearer \(harness.sim.adminToken)", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
                "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "-H", "Sec-WebSocket-Protocol: v5.channel.k8s.io",
                "\(harness.sim.url)/api/v1/namespaces/default/pods/web/portforward?ports=8080",
            ])
            #expect(curl.stdout == "403")
        }
    }

    @Test func base64FramingCarriesThePortPrefixAsText() async throws {
        try await self.running { harness in
            let result = try await runCommand("python3", [
                Self.interop.appendingPathComponent("websocket_base64_check.py").path, harness.sim.url, harness.sim.adminToken,
                try harness.write("ca.pem", harness.sim.certificateAuthority.certificatePEM), "default", "web", "8080",
            ])
            #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
            // 8080 little-endian is 90 1F: base64 "kB8=".
            #expect(result.stdout.split(separator: "\n").prefix(3) == ["protocol v4.base64.channel.k8s.io", "0kB8=", "1kB8="])
            #expect(result.stdout.contains("pod: web"))
        }
    }

    // MARK: kfwd forward

    @Test(arguments: Self.transports)
    func curlThroughKfwdForward(transport: String) async throws {
        try await self.running { harness in
            let run = try await runKfwd(self.forward(harness, ["pod/web", ":8080"], transport: transport)) { lines in
                let port = try await forwardedPort(lines)
                return try await runCommand("curl", ["-s", "--max-time", "10", "http://127.0.0.1:\(port)/hello?x=1"])
            }
            #expect(run.value.stdout.contains("pod: web"), "\(run.value.stdout)")
            #expect(run.value.stdout.contains("path: /hello?x=1"))
            #expect(run.status.isSuccess, "kfwd: \(run.lines)")
            #expect(run.lines.contains { $0.hasPrefix("Handling connection for ") })
        }
    }

    @Test func localhostListensOnBothLoopbacksOnOnePort() async throws {
        // kubectl skips ::1 on a machine without IPv6; so does kfwd, and so does this check.
        let hasIPv6 = (try? await ServerBootstrap(group: NIOSingletons.posixEventLoopGroup).bind(host: "::1", port: 0).get().close().get()) != nil
        try await self.running { harness in
            let run = try await runKfwd(self.forward(harness, ["pod/web", "0:8080", "--address", "localhost"])) { lines in
                let port = try await forwardedPort(lines)
                guard hasIPv6 else { return (port, Optional("Forwarding from [::1]:\(port) -> 8080"), "path: /six") }
                let v6 = await lines.first { $0.hasPrefix("Forwarding from [::1]:") }
                let answer = try await runCommand("curl", ["-s", "--max-time", "10", "http://[::1]:\(port)/six"])
                return (port, v6, answer.stdout)
            }
            let (port, v6, answer) = run.value
            #expect(v6 == "Forwarding from [::1]:\(port) -> 8080", "\(run.lines)")
            #expect(answer.contains("path: /six"))
            #expect(run.status.isSuccess)

            let bad = try await runKfwd(self.forward(harness, ["pod/web", "8080", "--address", "127.0.0.1,example.com"])) { lines in
                _ = await lines.first { $0.contains("example.com") }
            }
            #expect(!bad.status.isSuccess)
            #expect(bad.lines.contains { $0.contains("--address 'example.com' is not an IP address") }, "\(bad.lines)")
        }
    }

    @Test(arguments: Self.transports)
    func hundredConcurrentConnectionsEachEchoOneMiB(transport: String) async throws {
        try await self.running { harness in
            let run = try await runKfwd(self.forward(harness, ["pod/echo", ":7000"], transport: transport)) { lines in
                let port = try await forwardedPort(lines)
                return await withTaskGroup(of: String.self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            do {
                                return String(try await EchoClient.roundTrip(port: port, count: 1 << 20, seed: index * 977))
                            } catch {
                                return "\(error)"
                            }
                        }
                    }
                    return await group.reduce(into: [String]()) { $0.append($1) }
                }
            }
            #expect(run.value.count == 100)
            #expect(run.value.allSatisfy { $0 == String(1 << 20) }, "\(run.value.filter { $0 != String(1 << 20) }) kfwd: \(run.lines.filter { $0.hasPrefix("error") })")
            #expect(run.status.isSuccess, "kfwd: \(run.lines.suffix(5))")
        }
    }

    @Test(arguments: Self.transports)
    func a256MiBTransferArrivesByteExact(transport: String) async throws {
        try await self.running { harness in
            let run = try await runKfwd(self.forward(harness, ["pod/echo", ":7000"], transport: transport)) { lines in
                try await EchoClient.roundTrip(port: try await forwardedPort(lines), count: 256 << 20, seed: 12345)
            }
            #expect(run.value == 256 << 20)
            #expect(run.status.isSuccess)
        }
    }

    @Test(arguments: Self.transports)
    func theClientClosingFirstClosesThePodConnection(transport: String) async throws {
        try await self.running { harness in
            let run = try await runKfwd(self.forward(harness, ["pod/echo", ":7000"], transport: transport)) { lines in
                let port = try await forwardedPort(lines)
                #expect(try await EchoClient.roundTrip(port: port, count: 1000, seed: 1) == 1000)
                // roundTrip closed its socket: the pod's side of that connection must go too.
                try await harness.sim.waitUntil(timeout: .seconds(10)) { $0.backendConnections(pod: "echo") == 0 }
                // And the forward still serves.
                return try await EchoClient.roundTrip(port: port, count: 1000, seed: 2)
            }
            #expect(run.value == 1000)
            #expect(run.status.isSuccess)
        }
    }

    @Test(arguments: Self.transports)
    func thePodClosingFirstEndsTheLocalConnection(transport: String) async throws {
        try await self.running { harness in
            let run = try await runKfwd(self.forward(harness, ["pod/web", ":8080"], transport: transport)) { lines in
                let channel = try await EchoClient.connect(port: try await forwardedPort(lines))
                return try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "GET /bye HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n"))
                    var answer = ""
                    // Ends only when the pod closes and the forward passes the close on.
                    for try await buffer in inbound { answer += String(buffer: buffer) }
                    return answer
                }
            }
            #expect(run.value.hasPrefix("HTTP/1.1 200 OK"))
            #expect(run.value.contains("path: /bye"))
            #expect(run.status.isSuccess)
        }
    }

    @Test(arguments: Self.transports)
    func aDeletedPodCutsItsConnectionsAndEndsTheForwardAsKubectlDoes(transport: String) async throws {
        try await self.running { harness in
            let run = try await runKfwd(self.forward(harness, ["pod/echo", ":7000"], transport: transport)) { lines in
                let port = try await forwardedPort(lines)
                let channel = try await EchoClient.connect(port: port)
                // A backstop so a broken forward fails the test instead of hanging it.
                let backstop = channel.channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.channel.close(promise: nil) }
                let closedAfter = try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "ping"))
                    var iterator = inbound.makeAsyncIterator()
                    _ = try await iterator.next()
                    try harness.sim.delete("pods", name: "echo", gracePeriod: 0)
                    let deleted = ContinuousClock.now
                    while try await iterator.next() != nil {}
                    return ContinuousClock.now - deleted
                }
                backstop.cancel()
                // kfwd ends by itself.
                await lines.untilEnd()
                return closedAfter < .seconds(1)
            }
            #expect(run.value, "the local connection stayed open after the pod was deleted")
            #expect(run.lines.contains { $0.hasPrefix("error: pod echo in namespace default was deleted") }, "\(run.lines)")
            #expect(run.status == .exited(1))
        }
    }

    @Test func startupErrorsNameThePodOrThePortAndExitNonZero() async throws {
        try await self.running { harness in
            // Each waits for kfwd's own error line: kfwd must exit by itself.
            let failed: @Sendable (OutputLines) async -> Void = { lines in _ = await lines.first { $0.hasPrefix("error:") } }
            let gone = try await runKfwd(self.forward(harness, ["pod/nope", "8080", "-n", "default"]), failed)
            #expect(!gone.status.isSuccess)
            #expect(gone.lines.contains { $0.hasPrefix("error: pod nope not found in namespace default") }, "\(gone.lines)")

            let pending = try await runKfwd(self.forward(harness, ["pod/broken", "8080"]), failed)
            #expect(!pending.status.isSuccess)
            #expect(pending.lines.contains { $0.contains("pod broken in namespace default is not running") }, "\(pending.lines)")

            let first = try await runKfwd(self.forward(harness, ["pod/web", ":8080"])) { lines in
                let port = try await forwardedPort(lines)
                let busy = try await runKfwd(self.forward(harness, ["pod/web", "\(port):8080"]), failed)
                return (port, busy)
            }
            let (port, busy) = first.value
            #expect(!busy.status.isSuccess)
            #expect(busy.lines.contains { $0.contains("local port \(port) on 127.0.0.1 is already in use by kfwd (pid ") }, "\(busy.lines)")
            #expect(!busy.lines.contains { $0.hasPrefix("Forwarding from") })
            #expect(first.status.isSuccess)
        }
    }
}
