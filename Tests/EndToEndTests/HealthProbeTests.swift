import Foundation
import Testing

/// Health checked through the tunnel: a pod whose backend answers 500 gets no new connections
/// while another passes, says so on the event stream and in `kfwd status -o json`, and gets
/// connections again once it passes.
@Suite(.timeLimit(.minutes(2)))
struct HealthProbeTests {
    /// Two pods behind svc/web: http-echo, and a server that answers 500 until `flag` exists.
    static func manifest() -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: web-good, namespace: default, labels: {app: web}}
        spec:
          containers: [{name: web, image: kubesim/http-echo, ports: [{name: http, containerPort: 8080}]}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-sick, namespace: default, labels: {app: web}}
        spec:
          containers: [{name: web, image: test/sick, ports: [{name: http, containerPort: 8080}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}]
        """
    }

    static let sickServer = """
        import http.server, os, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                well = os.path.exists(sys.argv[3])
                body = b"pod: web-sick\\n"
                self.send_response(200 if well else 500)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
        """

    /// Which pod answered `count` requests through `port`.
    static func answers(_ port: Int, _ count: Int) async throws -> [String] {
        var pods: [String] = []
        for _ in 0..<count {
            let result = try await runCommand("curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(port)/"])
            pods.append(result.stdout.split(separator: "\n").first { $0.hasPrefix("pod: ") }.map { String($0.dropFirst(5)) } ?? "failed")
        }
        return pods
    }

    @Test func aPodAnsweringFiveHundredGetsNoNewConnectionsUntilItPassesAgain() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let script = scratch.appendingPathComponent("sick.py")
        try Data(Self.sickServer.utf8).write(to: script)
        let flag = scratch.appendingPathComponent("well").path
        try await SimHarness.run(manifest: Self.manifest(), configure: { $0.images["test/sick"] = "python3 \(script.path) {host} {port} \(flag)" }) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            try await ChaosTests.withDaemonForward(kubeconfig: harness.kubeconfigPath, adding: ["--probe", "http:/healthz", "--probe-interval", "1"]) { port, _, events in
                // Said on the stream (the first probes may come before it opens: then the
                // snapshot carries them).
                let failing = await ChaosTests.Record.first(events) { $0.failingPods?["web-sick"] != nil }
                #expect(failing?.failingPods?["web-sick"]?.contains("HTTP 500") == true, "\(events.all)")
                #expect(failing?.state == "running", "one pod passes: the forward runs")
                // Every new connection goes to the pod that passes.
                var answered = try await Self.answers(port, 12)
                let goodFailed = { @Sendable () async in
                    await ChaosTests.Record.first(events, timeout: .milliseconds(10)) { $0.type == "health" && $0.pod == "web-good" && $0.healthy == false }
                }
                if answered != Array(repeating: "web-good", count: 12), await goodFailed() != nil {
                    // A machine this busy failed the good pod's probe too (no answer within 3 s,
                    // twice): with no pod passing, every pod gets connections, as it should. The
                    // claim is checked again once the good pod passes.
                    #expect(await ChaosTests.Record.first(events) { $0.type == "health" && $0.pod == "web-good" && $0.healthy == true } != nil)
                    answered = try await Self.answers(port, 12)
                }
                let health = events.all.filter { $0.contains("\"health\"") }
                #expect(answered == Array(repeating: "web-good", count: 12), "\(answered), health events: \(health)")

                // The backend recovers: the next probe passes and connections spread again.
                _ = FileManager.default.createFile(atPath: flag, contents: Data())
                let passing = await ChaosTests.Record.first(events) { $0.type == "health" && $0.pod == "web-sick" && $0.healthy == true }
                #expect(passing != nil, "\(events.all)")
                let spread = try await Self.answers(port, 12)
                #expect(Set(spread) == ["web-good", "web-sick"], "\(spread)")
            }
        }
    }
}
