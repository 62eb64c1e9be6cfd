import Foundation
import KubeSim
import Testing

/// UDP and address forwards through kfwd-relay, with KubeSim running the relay image as the
/// built kfwd-relay and serving ClusterIPs as kube-proxy does.
@Suite(.serialized) struct RelayForwardTests {
    static let manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: echo, namespace: default}
        spec:
          replicas: 1
          selector: {matchLabels: {app: echo}}
          template:
            metadata: {labels: {app: echo}}
            spec:
              containers:
              - {name: echo, image: kubesim/udp-echo, ports: [{containerPort: 9000, protocol: UDP}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: default}
        spec:
          selector: {app: echo}
          ports: [{name: udp, port: 9999, targetPort: 9000, protocol: UDP}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: dns, namespace: default}
        spec:
          replicas: 1
          selector: {matchLabels: {app: dns}}
          template:
            metadata: {labels: {app: dns}}
            spec:
              containers:
              - name: dnsmasq
                image: dnsmasq:2.89
                ports: [{name: dns, containerPort: 1053, protocol: UDP}, {name: dns-tcp, containerPort: 1053, protocol: TCP}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: dns, namespace: default}
        spec:
          selector: {app: dns}
          ports: [{name: dns, port: 1053, targetPort: dns, protocol: UDP}]
        """

    static func run<T: Sendable>(slowRelays: SlowRelays? = nil, _ body: (SimHarness) async throws -> T) async throws -> T {
        let gate = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-slow-relay-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: gate) }
        return try await SimHarness.run(manifest: Self.manifest, configure: { configuration in
            configuration.mapRelayImage(slow: slowRelays, gate: gate)
            configuration.images["dnsmasq"] =
                "\(dnsmasqPath ?? "dnsmasq") -k --port={port} --listen-address={host} --bind-interfaces --no-resolv --no-hosts --pid-file= --user=root --address=/db.shop.test/10.1.2.3"
        }) { harness in
            try await harness.sim.waitUntil { sim in sim.readyPods("app=echo").count == 1 && sim.readyPods("app=dns").count == 1 }
            return try await body(harness)
        }
    }

    static func forwardArguments(_ harness: SimHarness, _ target: String, _ ports: String...) -> [String] {
        ["forward", target] + ports + ["--udp", "--kubeconfig", harness.kubeconfigPath, "--relay-image", testRelayImage]
    }

    static func udpPeers(port: Int, peers: Int, count: Int, size: Int) async throws -> (received: [Int], foreign: [Int], sizesOK: [Bool]) {
        let result = try await runCommand("python3", ["-c", udpPeersScript, String(port), String(peers), String(count), String(size)])
        struct Report: Decodable {
            let received: [Int]
            let foreign: [Int]
            let sizes_ok: [Bool]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        return (report.received, report.foreign, report.sizes_ok)
    }

    @Test(.enabled(if: isInstalled("dig") && dnsmasqPath != nil))
    func digThroughAUDPForwardToAServiceGetsTheRecordDnsmasqServes() async throws {
        try await Self.run { harness in
            let (answer, lines, _) = try await runKfwd(Self.forwardArguments(harness, "svc/dns", ":1053")) { lines in
                let port = try await forwardedPort(lines)
                // The relay is deployed as the forward starts; on a loaded machine that takes a
                // while, and dig gives up after its tries.
                _ = await lines.first { $0.hasPrefix("Relay: relay ") && $0.hasSuffix(" ready") }
                // Its session is dialed then too, not by the first query (whose first try
                // would wait for a TLS handshake and an upgrade).
                let session = await lines.first { $0.hasPrefix("Transport: ") }
                #expect(session != nil, "no session to the relay before the first query")
                // One try: the first query is answered (dig would print a failed try on stdout).
                let result = try await runCommand("dig", ["@127.0.0.1", "-p", String(port), "db.shop.test", "+short", "+time=15", "+tries=1"])
                return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(answer == "10.1.2.3", "\(lines)")
            #expect(lines.contains { $0.hasPrefix("Relay: deploying relay kfwd-relay-") })
            #expect(lines.contains { $0.hasPrefix("Relay: relay kfwd-relay-") && $0.hasSuffix(" ready") })
            // Stopped: the relay pod goes with it.
            try await harness.sim.waitUntil { sim in sim.relayPods().isEmpty }
        }
    }

    @Test func threeLocalPeersInterleavedEachGetEveryReplyAndOnlyTheirOwn() async throws {
        try await Self.run { harness in
            let (report, lines, _) = try await runKfwd(Self.forwardArguments(harness, "svc/echo", ":9999")) { lines in
                let port = try await forwardedPort(lines)
                return try await Self.udpPeers(port: port, peers: 3, count: 1000, size: 64)
            }
            #expect(report.received == [1000, 1000, 1000], "\(lines.suffix(20))")
            #expect(report.foreign == [0, 0, 0])
            // One flow (one stream to the relay) per local peer.
            #expect(lines.filter { $0.hasPrefix("Handling connection for ") }.count == 3)
        }
    }

    @Test func datagramsOfTheLargestUDPSizeArriveWhole() async throws {
        try await Self.run { harness in
            let (report, _, _) = try await runKfwd(Self.forwardArguments(harness, "svc/echo", ":9999")) { lines in
                try await Self.udpPeers(port: try await forwardedPort(lines), peers: 1, count: 20, size: 65507)
            }
            #expect(report.received == [20])
            #expect(report.sizesOK == [true])
        }
    }

    @Test func aBackendThatSendsUnaskedReachesTheClient() async throws {
        // A backend that answers one datagram with a stream of 100 (no lock-step in the relay).
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-burst-\(UUID().uuidString).py")
        try Data("""
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((sys.argv[1], int(sys.argv[2])))
            while True:
                data, peer = s.recvfrom(2048)
                for i in range(100):
                    s.sendto(b"unasked %d" % i, peer)
            """.utf8).write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: burst, namespace: default, labels: {app: burst}}
            spec:
              containers:
              - {name: burst, image: "test/udp-burst", ports: [{containerPort: 7000, protocol: UDP}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: burst, namespace: default}
            spec:
              selector: {app: burst}
              ports: [{port: 7000, protocol: UDP}]
            """
        try await SimHarness.run(manifest: manifest, configure: { configuration in
            configuration.mapRelayImage()
            configuration.images["test/udp-burst"] = "python3 \(script.path) {host} {port}"
        }) { harness in
            try await harness.sim.waitUntil { sim in sim.readyPods("app=burst").count == 1 }
            let (received, lines, _) = try await runKfwd(Self.forwardArguments(harness, "svc/burst", ":7000")) { lines in
                let port = try await forwardedPort(lines)
                let result = try await runCommand("python3", ["-c", """
                    import socket, sys
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                    # A pod with only UDP ports is Ready as its container starts, maybe before
                    # the script binds its socket (as in a cluster): ask again until it answers.
                    seen = set()
                    s.settimeout(1)
                    for _ in range(10):
                        s.sendto(b"go", ("127.0.0.1", int(sys.argv[1])))
                        try:
                            seen.add(s.recv(2048))
                            break
                        except socket.timeout:
                            pass
                    s.settimeout(10)
                    try:
                        while seen and len(seen) < 100:
                            seen.add(s.recv(2048))
                    except socket.timeout:
                        pass
                    print(len(seen))
                    """, String(port)])
                return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            }
            #expect(received == 100, "\(lines.suffix(10))")
        }
    }

    /// A client that sends a datagram every 50 ms from one socket for up to 40 s and prints
    /// `reply N` for every answer, so a test can see traffic stop and resume.
    static let steadyClient = """
        import socket, sys, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.05)
        n = 0
        end = time.time() + 40
        while time.time() < end:
            s.sendto(b"tick", ("127.0.0.1", int(sys.argv[1])))
            try:
                while True:
                    s.recv(100)
                    n += 1
                    print("reply", n, flush=True)
            except socket.timeout:
                pass
        """

    /// kftray's `workload_type: proxy`: any address the cluster can reach, here a PostgreSQL
    /// server the test starts, reached by psql through `kfwd up`.
    @Test(.enabled(if: isInstalled("psql") && postgresBinDirectory != nil))
    func psqlReachesAnAddressThroughAProxyEntry() async throws {
        try await Self.run { harness in
            let answer = try await withPostgres { postgresPort in
                let entry: [String: Any] = [
                    "alias": "db", "workload_type": "proxy", "namespace": "default", "remote_address": "127.0.0.1",
                    "remote_port": postgresPort, "local_port": 0, "kubeconfig": harness.kubeconfigPath,
                ]
                let file = try harness.write("kftray.json", String(decoding: try JSONSerialization.data(withJSONObject: [entry]), as: UTF8.self))
                let (value, lines, _) = try await runKfwd(["up", "--config", file, "--relay-image", testRelayImage]) { lines in
                    let prefix = "db: Forwarding from 127.0.0.1:"
                    guard let line = await lines.first(where: { $0.hasPrefix(prefix) }), let port = Int(line.dropFirst(prefix.count).prefix { $0.isNumber })
                    else { throw KubeSimTestError("no forward: \(lines.all)") }
                    var answers: [String] = []
                    // Two sessions: each is its own stream through the relay.
                    for query in ["select 6 * 7", "select current_user"] {
                        let result = try await runCommand(
                            "psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-At", "-c", query], environment: ["PGCONNECT_TIMEOUT": "20"]
                        )
                        answers.append(result.succeeded ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : "psql failed: \(result.stderr)")
                    }
                    return answers
                }
                #expect(lines.contains { $0.hasPrefix("db: ") && $0.contains("relay") }, "\(lines)")
                return value
            }
            #expect(answer == ["42", "postgres"])
            try await harness.sim.waitUntil { sim in sim.relayPods().isEmpty }
        }
    }

    /// UDP to a Deployment's pods: a flow goes to a ready pod's address through the relay; when
    /// that pod is force-deleted the flow ends and the same local socket goes on with the new pod.
    @Test func udpToADeploymentFollowsItsPodsAcrossAForcedDeletion() async throws {
        try await Self.run { harness in
            let (pods, lines, _) = try await runKfwd(Self.forwardArguments(harness, "deploy/echo", ":9000")) { lines in
                let port = try await forwardedPort(lines)
                guard let first = harness.sim.readyPods("app=echo").first?[path: ["metadata", "name"]]?.stringValue else {
                    throw KubeSimTestError("no echo pod")
                }
                let (value, _, _) = try await runLongLived(.name("python3"), ["-c", Self.steadyClient, String(port)]) { replies in
                    guard await replies.first(where: { $0 == "reply 5" }) != nil else { throw KubeSimTestError("no replies: \(lines.all)") }
                    try harness.sim.delete("pods", name: first, gracePeriod: 0)
                    // Replies still on their way from the old pod count for nothing: traffic
                    // must go on once kfwd has moved to the new one.
                    guard await lines.first(where: { $0.hasPrefix("Ready: new connections go to pod ") && !$0.contains(first) }) != nil
                    else { throw KubeSimTestError("kfwd did not move to a new pod: \(lines.all)") }
                    let seenAfterMove = replies.all.count
                    guard await replies.first(where: { line in Int(line.dropFirst("reply ".count)).map { $0 > seenAfterMove + 5 } ?? false }) != nil
                    else { throw KubeSimTestError("traffic did not resume on the new pod: \(lines.all)") }
                    return harness.sim.readyPods("app=echo").compactMap { $0[path: ["metadata", "name"]]?.stringValue }
                }
                return (first, value)
            }
            #expect(!pods.1.isEmpty && !pods.1.contains(pods.0), "\(lines)")
            #expect(lines.contains("Ready: new connections go to pod \(pods.0)"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("Ready: new connections go to pod ") && !$0.contains(pods.0) }, "\(lines)")
            #expect(!lines.contains { $0.hasPrefix("Ready:") && $0.contains("kfwd-relay") }, "the pods, not the relay, are what it forwards to")
        }
    }
}
