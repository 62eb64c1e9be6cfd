import Forwarding
import Foundation
import KubeClient
import KubeSim
import Logging
import NIOCore
import NIOPosix

/// The engine under churn and at rest, against KubeSim in the same process:
/// - recovery: sequential HTTP requests through `svc/web` while every pod is force-deleted,
///   the time from the deletion to the next good answer against the time KubeSim needs to make
///   a replacement pod ready (the floor no forwarder can beat), and failed requests per deletion;
/// - new-connection time to first byte through `svc/web` against the backend directly;
/// - API requests per forward per idle minute, ten forwards in one namespace.
enum Resilience {
    static let manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: kubesim/http-echo, ports: [{name: http, containerPort: 8080}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}]
        """

    static func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let deletions = Int(environment["BENCH_DELETIONS"] ?? "10") ?? 10
        let idleSeconds = Int(environment["BENCH_IDLE_SECONDS"] ?? "60") ?? 60
        var configuration = KubeSim.Configuration()
        configuration.objects = try ManifestLoader.parse(Self.manifest)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        try await KubeSim.withRunning(configuration, logger: logger) { sim in
            try await sim.waitUntil { Self.readyPods($0).count == 2 }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-bench-\(getpid()).kubeconfig").path
            try sim.writeKubeconfig(to: path)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let supervisor = Supervisor(cache: KubeClientCache(logger: logger))
            let updates = supervisor.updates()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await supervisor.run() }
                let web = [PortMapping(local: 0, remote: 80)]
                // The default (auto: the tunnel, a session kept per pod), and WebSocket with and
                // without warm streams.
                try supervisor.start(ForwardSpec(alias: "web", kubeconfig: path, target: .service("web"), mappings: web))
                try supervisor.start(ForwardSpec(alias: "ws", kubeconfig: path, target: .service("web"), mappings: web, transport: .websocket))
                try supervisor.start(ForwardSpec(alias: "ws-warm", kubeconfig: path, target: .service("web"), mappings: web, warmStreams: true, transport: .websocket))
                for await _ in updates where supervisor.list().allSatisfy({ $0.state.name == "running" }) { break }
                let port = { (alias: String) in supervisor.status(alias)?.listening.first?.port ?? 0 }
                row("| measure | baseline | kfwd | ratio (kfwd / baseline) |")
                row("|---|---|---|---|")
                try await Self.timeToFirstByte(sim, forwards: [("auto (tunnel, sessions kept)", port("web")), ("websocket", port("ws")), ("websocket, warm streams", port("ws-warm"))])
                _ = await supervisor.stop("ws")
                _ = await supervisor.stop("ws-warm")
                try await Self.recovery(sim, port: port("web"), deletions: deletions)
                try await Self.idle(sim, supervisor: supervisor, kubeconfig: path, updates: updates, seconds: idleSeconds)
                group.cancelAll()
            }
        }
    }

    /// New connections 20 ms apart (a curl loop's pace, so that a warm stream taken has been
    /// replaced before the next connection comes), in turn through each forward and to a pod.
    private static func timeToFirstByte(_ sim: KubeSim, forwards: [(name: String, port: Int)]) async throws {
        guard let pod = Self.readyPods(sim).first, let backend = sim.backendEndpoint(pod: pod, port: 8080) else { return }
        var direct: [Double] = []
        var times = [[Double]](repeating: [], count: forwards.count)
        for _ in 0..<20 {
            for forward in forwards { _ = await Probe.httpGet(host: "127.0.0.1", port: forward.port) }
        }
        for _ in 0..<200 {
            direct.append(await Probe.httpGet(host: backend.host, port: backend.port).micros)
            for (index, forward) in forwards.enumerated() {
                try await Task.sleep(for: .milliseconds(20))
                times[index].append(await Probe.httpGet(host: "127.0.0.1", port: forward.port).micros)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        for (name, pick) in [("p50", 0.5), ("p99", 0.99)] {
            let d = Probe.percentile(direct, pick)
            for (index, forward) in forwards.enumerated() {
                let f = Probe.percentile(times[index], pick)
                row(String(format: "| new connection to svc/web, HTTP GET answered, %@ of 200, %@ (µs; baseline: the pod directly) | %.0f | %.0f | %.1f |", name, forward.name, d, f, f / d))
            }
        }
    }

    private static func recovery(_ sim: KubeSim, port: Int, deletions: Int) async throws {
        var recoveries: [Double] = []
        var podReady: [Double] = []
        var failures = 0
        for _ in 0..<deletions {
            try await sim.waitUntil { Self.readyPods($0).count == 2 }
            let old = Set(Self.readyPods(sim))
            let start = ContinuousClock.now
            for pod in old { try sim.delete("pods", name: pod, gracePeriod: 0) }
            async let replaced: Double = {
                try await sim.waitUntil { sim in Self.readyPods(sim).contains { !old.contains($0) } }
                return Probe.seconds(ContinuousClock.now - start) * 1000
            }()
            while !(await Probe.httpGet(host: "127.0.0.1", port: port).ok) { failures += 1 }
            recoveries.append(Probe.seconds(ContinuousClock.now - start) * 1000)
            podReady.append(try await replaced)
        }
        let r = Probe.percentile(recoveries, 0.5)
        let p = Probe.percentile(podReady, 0.5)
        row(String(format: "| every pod force-deleted: deletion to next good answer, p50 of %d (ms; baseline: deletion to a new pod Ready) | %.1f | %.1f | %.2f |", deletions, p, r, r / p))
        row(String(format: "| failed requests per deletion (sequential requests, all pods force-deleted) | - | %.2f | - |", Double(failures) / Double(deletions)))
    }

    /// Nine more forwards join the first in its namespace; then nothing happens for `seconds`.
    private static func idle(_ sim: KubeSim, supervisor: Supervisor, kubeconfig: String, updates: AsyncStream<ForwardStatus>, seconds: Int) async throws {
        let sessionsBefore = sim.requests.filter { $0.path.hasSuffix("/portforward") }.count
        for index in 1..<10 {
            try supervisor.start(ForwardSpec(alias: "web-\(index)", kubeconfig: kubeconfig, target: .service("web"), mappings: [PortMapping(local: 0, remote: 80)]))
        }
        for await _ in updates where supervisor.list().allSatisfy({ $0.state.name == "running" || $0.state == .stopped }) { break }
        // Each new forward opens its sessions to the pods just after it reports running.
        let sessions = { sim.requests.filter { $0.path.hasSuffix("/portforward") }.count }
        var settled = sessions()
        repeat {
            settled = sessions()
            try await Task.sleep(for: .seconds(2))
        } while sessions() != settled
        let before = sim.requests.count
        try await Task.sleep(for: .seconds(seconds))
        let requests = sim.requests.count - before
        let perForwardMinute = Double(requests) / 10 / (Double(seconds) / 60)
        row(String(format: "| API requests per forward per idle minute, 10 forwards in one namespace, %d s idle (watch renewals are shared) | - | %.2f | - |", seconds, perForwardMinute))
        row(String(format: "| port-forward sessions the nine joining forwards opened (2 pods each; before the idle window) | - | %d | - |", sim.requests.filter { $0.path.hasSuffix("/portforward") }.count - sessionsBefore))
    }

    private static func readyPods(_ sim: KubeSim) -> [String] {
        ((try? sim.objects("pods", labelSelector: "app=web")) ?? []).filter { pod in
            pod[path: ["metadata", "deletionTimestamp"]] == nil
                && (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
        }.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
    }
}

/// One table row, written at once (a pipe would hold it until exit).
private func row(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
