import Foundation
import KubeSim
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// kubectl's own port-forward through KubeSim, over the WebSocket tunnel (kubectl ≥ 1.31's
/// default) and plain SPDY: KubeSim must serve both as a real cluster does, or kubectl says so.
@Suite struct KubectlPortForwardTests {
    static let manifest = webManifest + """

        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: echo, namespace: default, labels: {app: echo}}
        spec:
          containers: [{name: echo, image: kubesim/tcp-echo, ports: [{containerPort: 7000}]}]
        """

    enum Mode: String, CaseIterable, Sendable {
        case tunnel
        case spdy

        /// kubectl 1.31+ turns the tunnel off only for exactly `false` (wire doc section 0).
        var environment: [String: String] { self == .spdy ? ["KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"] : [:] }
        /// How the upgrade reaches the apiserver.
        var method: String { self == .spdy ? "POST" : "GET" }
    }

    /// Runs `kubectl port-forward ARGUMENTS` and `body` with the local port it printed.
    private func portForward<T: Sendable>(
        _ harness: SimHarness, _ mode: Mode, _ arguments: [String], _ body: @escaping @Sendable (Int, OutputLines) async throws -> T
    ) async throws -> (value: T, lines: [String], status: TerminationStatus) {
        let environment = mode.environment.merging(["KUBECONFIG": harness.kubeconfigPath, "HOME": harness.directory.path]) { $1 }
        return try await runLongLived(.name("kubectl"), ["port-forward"] + arguments, environment: environment) { lines in
            try await body(try await forwardedPort(lines), lines)
        }
    }

    /// The pod named by http-echo's first line (`pod: NAME`).
    static func podName(_ body: String) -> String {
        String(body.split(separator: "\n").first?.dropFirst("pod: ".count) ?? "")
    }


    @Test(arguments: Mode.allCases)
    func kubectlMovesBytesExactlyOverFiftyConcurrentConnections(mode: Mode) async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await harness.sim.waitUntil { isReady($0.object("pods", name: "echo")) }
            let (matched, lines, _) = try await self.portForward(harness, mode, ["pod/echo", ":7000"]) { port, _ in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for connection in 0..<50 {
                        group.addTask { try await EchoClient.roundTrip(port: port, count: 200_000, seed: connection * 7919) }
                    }
                    return try await group.reduce(0) { $0 + ($1 == 200_000 ? 1 : 0) }
                }
            }
            #expect(matched == 50, "\(lines)")
            #expect(harness.sim.portForwardUpgrades == [mode.method])
            #expect(!lines.contains { $0.contains("error") }, "\(lines)")
        }
    }

    @Test(arguments: Mode.allCases)
    func kubectlServesHTTPThroughAService(mode: Mode) async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let (bodies, lines, _) = try await self.portForward(harness, mode, ["svc/web", ":80"]) { port, _ in
                var bodies: [String] = []
                for _ in 0..<5 {
                    let result = try await runCommand("curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/"])
                    bodies.append(Self.podName(result.stdout))
                }
                return bodies
            }
            // kubectl picks one pod of the Service and stays on it.
            let pod = bodies.first ?? ""
            #expect(pod.hasPrefix("web-"), "\(bodies) \(lines)")
            #expect(bodies.allSatisfy { $0 == pod }, "\(bodies)")
        }
    }

    @Test func kubectlFallsBackToSPDYWhenTheTunnelGateIsOff() async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            harness.sim.portForwardTunnel = false
            try await harness.sim.waitUntil { isReady($0.object("pods", name: "echo")) }
            let (matched, lines, _) = try await self.portForward(harness, .tunnel, ["pod/echo", ":7000"]) { port, _ in
                try await EchoClient.roundTrip(port: port, count: 100_000, seed: 1)
            }
            #expect(matched == 100_000, "\(lines)")
            // The tunnel's GET is refused (the kubelet finds no subprotocol it speaks), then SPDY.
            #expect(harness.sim.portForwardUpgrades == ["GET", "POST"])
        }
    }

    /// The versioned kubectl binaries shipped beside kubectl (1.27 to 1.33): each forwards
    /// byte-exact in its own default mode, SPDY up to 1.30 and the tunnel from 1.31, and 1.30
    /// takes the tunnel when asked (`KUBECTL_PORT_FORWARD_WEBSOCKETS=true`).
    @Test func everyShippedKubectlFrom127To133ForwardsInItsDefaultMode() async throws {
        let kubectl = URL(fileURLWithPath: "/usr/bin/kubectl").resolvingSymlinksInPath().deletingLastPathComponent()
        let versions = (27...33).compactMap { minor -> (Int, String)? in
            let path = kubectl.appendingPathComponent("kubectl.1.\(minor)").path
            return FileManager.default.isExecutableFile(atPath: path) ? (minor, path) : nil
        }
        try #require(versions.contains { $0.0 == 27 }, "kubectl.1.27 should be beside \(kubectl.path)")
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await harness.sim.waitUntil { isReady($0.object("pods", name: "echo")) }
            let runs = versions.map { ($0.0, $0.1, [String: String]()) } + versions.filter { $0.0 == 30 }.map { ($0.0, $0.1, ["KUBECTL_PORT_FORWARD_WEBSOCKETS": "true"]) }
            for (minor, path, extra) in runs {
                let before = harness.sim.portForwardUpgrades.count
                let environment = extra.merging(["KUBECONFIG": harness.kubeconfigPath, "HOME": harness.directory.path]) { $1 }
                let run = try await runLongLived(.path(FilePath(path)), ["port-forward", "pod/echo", ":7000"], environment: environment) { lines in
                    let port = try await forwardedPort(lines)
                    return try await withThrowingTaskGroup(of: Int.self) { group in
                        for connection in 0..<10 { group.addTask { try await EchoClient.roundTrip(port: port, count: 100_000, seed: connection) } }
                        return try await group.reduce(0) { $0 + ($1 == 100_000 ? 1 : 0) }
                    }
                }
                let tunnel = minor >= 31 || extra["KUBECTL_PORT_FORWARD_WEBSOCKETS"] == "true"
                #expect(run.value == 10, "kubectl 1.\(minor) \(extra): \(run.lines)")
                #expect(Array(harness.sim.portForwardUpgrades.dropFirst(before)) == [tunnel ? "GET" : "POST"], "kubectl 1.\(minor) \(extra)")
            }
        }
    }

    /// `kubesim serve --no-port-forward-tunnel` turns the gate off for whoever runs it by hand:
    /// kubectl (-v=6 shows its requests) has the tunnel's GET refused, falls back, and upgrades
    /// with SPDY's POST.
    @Test func kubesimServeCanTurnTheTunnelGateOff() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubesim-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = directory.appendingPathComponent("echo.yaml").path
        try Data(Self.manifest.utf8).write(to: URL(fileURLWithPath: manifest))
        let kubeconfig = directory.appendingPathComponent("kubeconfig").path
        let kubesim = URL(fileURLWithPath: kfwdPath).deletingLastPathComponent().appendingPathComponent("kubesim").path
        let environment = ["KUBECONFIG": kubeconfig, "HOME": directory.path]
        let served = try await runLongLived(
            .path(FilePath(kubesim)), ["serve", "--kubeconfig", kubeconfig, "--manifests", manifest, "--no-port-forward-tunnel"]
        ) { lines in
            guard await lines.first(where: { $0.hasPrefix("kubesim ready ") }) != nil else { throw KubeSimTestError("kubesim did not start: \(lines.all)") }
            let waited = try await runCommand("kubectl", ["wait", "--for=condition=Ready", "pod/echo", "--timeout=30s"], environment: environment)
            #expect(waited.succeeded, "\(waited.stderr)")
            return try await runLongLived(.name("kubectl"), ["port-forward", "pod/echo", ":7000", "-v=6"], environment: environment) { kubectl in
                try await EchoClient.roundTrip(port: try await forwardedPort(kubectl), count: 50_000, seed: 9)
            }
        }
        let forwarded = served.value
        #expect(forwarded.value == 50_000, "\(forwarded.lines)")
        #expect(forwarded.lines.contains { $0.contains("fallback to secondary dialer") }, "\(forwarded.lines)")
        #expect(forwarded.lines.contains { $0.contains("POST https://") && $0.contains("/portforward 101") }, "\(forwarded.lines)")
        #expect(served.status.isSuccess, "kubesim stops cleanly on SIGTERM")
    }

    /// The seed's complaint, recorded: kubectl forwards to one pod; once that pod is force-deleted
    /// the next connection's error ends the whole kubectl process.
    @Test(arguments: Mode.allCases)
    func kubectlDiesOnTheFirstConnectionAfterItsPodIsForceDeleted(mode: Mode) async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let (outcome, lines, status) = try await self.portForward(harness, mode, ["svc/web", ":80"]) { port, lines in
                let first = Self.podName(try await runCommand("curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/"]).stdout)
                try harness.sim.delete("pods", name: first, gracePeriod: 0)
                let second = try await runCommand("curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/"])
                await lines.untilEnd(timeout: .seconds(15))
                return (first, second.succeeded)
            }
            #expect(outcome.0.hasPrefix("web-"))
            #expect(!outcome.1, "the request after the deletion failed")
            #expect(lines.contains { $0.contains("lost connection to pod") }, "\(lines)")
            #expect(!status.isSuccess)
        }
    }
}
