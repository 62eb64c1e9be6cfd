import Foundation
import KubeSim
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// `kfwd forward` to services, deployments and selectors while the cluster churns, kubectl
/// driving the churn: the seed's demo and its cousins.
@Suite(.serialized) struct ResilientForwardTests {
    private func forward(_ harness: SimHarness, _ arguments: [String]) -> [String] {
        ["forward"] + arguments + ["--kubeconfig", harness.kubeconfigPath]
    }

    private func kubectl(_ harness: SimHarness, _ arguments: [String]) async throws -> CommandResult {
        try await runCommand("kubectl", arguments, environment: ["KUBECONFIG": harness.kubeconfigPath, "HOME": harness.directory.path])
    }

    private func readyWeb(_ harness: SimHarness, count: Int = 2) async throws {
        try await harness.sim.waitUntil { $0.readyPods("app=web").count == count }
    }

    /// The seed's demo, over each transport kfwd speaks.
    @Test(arguments: PortForwardTests.transports)
    func curlLoopSurvivesForcedDeletionOfEveryPodTwice(transport: String) async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await self.readyWeb(harness)
            let run = try await runKfwd(self.forward(harness, ["svc/web", ":80", "--transport", transport])) { lines in
                let port = try await forwardedPort(lines)
                let loop = RequestLoop(port: port)
                return try await loop.running {
                    var deletions: [ClosedRange<ContinuousClock.Instant>] = []
                    try await loop.waitUntil { $0.filter(\.ok).count >= 3 }
                    for _ in 0..<2 {
                        let started = ContinuousClock.now
                        let deleted = try await self.kubectl(harness, ["delete", "pods", "--all", "--force", "--grace-period=0"])
                        #expect(deleted.succeeded, "\(deleted.stderr)")
                        let done = ContinuousClock.now
                        deletions.append(started...done)
                        // However loaded the machine (the whole suite runs at once on two cores),
                        // the loop must carry on through the new pods: a stuck one times out here.
                        try await loop.waitUntil { $0.filter { $0.start > done }.count >= 3 }
                    }
                    return deletions
                }
            }
            let (results, deletions) = run.value
            let failed = results.filter { !$0.ok }
            let errors = run.lines.filter { $0.hasPrefix("error") }
            #expect(failed.count <= deletions.count, "failed: \(failed) kfwd: \(errors)")
            // None that ran wholly between a deletion carried out and the next one failed.
            let quiet = zip(deletions, deletions.dropFirst().map(\.lowerBound) + [.now]).map { $0.upperBound..<$1 }
            #expect(!failed.contains { result in quiet.contains { $0.contains(result.start) && $0.contains(result.end) } }, "\(failed) kfwd: \(errors)")
            #expect(Set(results.compactMap(\.pod)).count >= 4, "requests should have reached the old and the new pods")
            #expect(run.status.isSuccess)
        }
    }

    /// The pods drain as a well-behaved server does on SIGTERM (here for a second): a request a
    /// pod already took is answered, and kfwd sends it no new one. (A server that drops the
    /// requests it holds when told to stop loses them whatever forwards to it.)
    @Test func rolloutRestartAndScaleToZeroAndBackLoseNothing() async throws {
        let draining = webManifest.replacingOccurrences(
            of: "metadata: {labels: {app: web}}", with: #"metadata: {labels: {app: web}, annotations: {kubesim.io/shutdown-delay-seconds: "1"}}"#
        )
        #expect(draining != webManifest)
        try await SimHarness.run(manifest: draining) { harness in
            try await self.readyWeb(harness)
            let run = try await runKfwd(self.forward(harness, ["svc/web", ":80"])) { lines in
                let port = try await forwardedPort(lines)
                let loop = RequestLoop(port: port)
                // A few more requests answered: the loop runs through each change, however loaded
                // the machine.
                let threeMore = { @Sendable in
                    let from = ContinuousClock.now
                    try await loop.waitUntil { $0.filter { $0.start > from }.count >= 3 }
                }
                return try await loop.running {
                    try await threeMore()
                    #expect(try await self.kubectl(harness, ["rollout", "restart", "deployment/web"]).succeeded)
                    try await harness.sim.waitUntil(timeout: .seconds(30)) { sim in
                        sim.readyPods("app=web").count == 2 && (try? sim.objects("replicasets"))?.count == 2
                            && sim.object("deployments", name: "web")?[path: ["status", "updatedReplicas"]] == 2
                    }
                    try await threeMore()
                    #expect(try await self.kubectl(harness, ["scale", "deployment/web", "--replicas=0"]).succeeded)
                    try await harness.sim.waitUntil { $0.readyPods("app=web").isEmpty }
                    // Scaled to zero, a request waits: held for this second, answered after.
                    try await Task.sleep(for: .seconds(1))
                    #expect(try await self.kubectl(harness, ["scale", "deployment/web", "--replicas=2"]).succeeded)
                    try await self.readyWeb(harness)
                    try await threeMore()
                    return 0
                }
            }
            let (results, _) = run.value
            // Graceful changes lose nothing: a connection routed to a pod just as it stops is
            // refused by the runtime's dial and replayed on another pod; held while none is ready.
            let failed = results.filter { !$0.ok }
            #expect(failed.count == 0, "\(failed) kfwd: \(run.lines.filter { $0.hasPrefix("error") })")
            #expect(run.lines.contains { $0.contains("svc/web has no ready pod") }, "the hold while scaled to zero is reported")
        }
    }

    @Test func deploymentsAndSelectorsSpreadOverTheirReadyPods() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await self.readyWeb(harness)
            for target in [["deploy/web", ":8080"], ["-l", "app=web", ":8080"]] {
                let run = try await runKfwd(self.forward(harness, target)) { lines in
                    let port = try await forwardedPort(lines)
                    var pods: [String] = []
                    for _ in 0..<6 { pods.append(try await RequestLoop.request(port: port).pod ?? "failed") }
                    return pods
                }
                #expect(Set(run.value).count == 2, "\(target): \(run.value)")
                #expect(run.status.isSuccess)
            }
        }
    }

    @Test func stickyAndClientIPAffinityKeepOnePodWhileItIsReady() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await self.readyWeb(harness)
            let sticky = try await runKfwd(self.forward(harness, ["svc/web", ":80", "--sticky"])) { lines in
                let port = try await forwardedPort(lines)
                var before: [String] = []
                for _ in 0..<6 { before.append(try await RequestLoop.request(port: port).pod ?? "failed") }
                // The pod goes away: the forward settles on another one and stays there.
                let first = before[0]
                try harness.sim.delete("pods", name: first, gracePeriod: 0)
                try await harness.sim.waitUntil { !$0.readyPods("app=web").contains { $0[path: ["metadata", "name"]]?.stringValue == first } }
                var after: [String] = []
                for _ in 0..<6 { after.append(try await RequestLoop.request(port: port).pod ?? "failed") }
                return (before, after)
            }
            let (before, after) = sticky.value
            #expect(Set(before).count == 1 && Set(after).count == 1 && before[0] != after[0], "\(before) \(after)")
            #expect(!after.contains("failed"))

            #expect(try await self.kubectl(harness, ["patch", "service", "web", "-p", #"{"spec":{"sessionAffinity":"ClientIP"}}"#]).succeeded)
            let affinity = try await runKfwd(self.forward(harness, ["svc/web", ":80"])) { lines in
                let port = try await forwardedPort(lines)
                var pods: [String] = []
                for _ in 0..<6 { pods.append(try await RequestLoop.request(port: port).pod ?? "failed") }
                return pods
            }
            #expect(Set(affinity.value).count == 1 && !affinity.value.contains("failed"), "\(affinity.value)")
        }
    }

    /// A Service over a pod that answers and a pod whose process stopped listening after its
    /// readiness check: the runtime cannot dial the deaf one, says so on the error channel after
    /// kfwd has already read the request, and kfwd replays the request to the other pod.
    @Test func requestsRefusedByARuntimeDialAreReplayedOnAnotherPod() async throws {
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: good, namespace: default, labels: {app: mixed}}
            spec:
              containers: [{name: web, image: kubesim/http-echo, ports: [{name: http, containerPort: 8080}]}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: deaf, namespace: default, labels: {app: mixed}}
            spec:
              containers: [{name: web, image: example/deaf, ports: [{name: http, containerPort: 8080}]}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: mixed, namespace: default}
            spec:
              selector: {app: mixed}
              ports: [{name: http, port: 80, targetPort: http}]
            """
        try await SimHarness.run(manifest: manifest, configure: {
            // Accepts KubeSim's readiness check, then closes its socket for good.
            $0.images["example/deaf"] = #"python3 -c "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('{host}', {port})); s.listen(); c, _ = s.accept(); c.close(); s.close()"; sleep 600"#
        }) { harness in
            try await harness.sim.waitUntil { sim in
                (try? sim.objects("endpointslices", labelSelector: "kubernetes.io/service-name=mixed"))?
                    .flatMap { $0["endpoints"]?.arrayValue ?? [] }.filter { $0[path: ["conditions", "ready"]] == true }.count == 2
            }
            let run = try await runKfwd(self.forward(harness, ["svc/mixed", ":80", "-v"])) { lines in
                let port = try await forwardedPort(lines)
                var results: [RequestLoop.Result] = []
                for _ in 0..<8 { results.append(try await RequestLoop.request(port: port)) }
                return results
            }
            #expect(run.value.allSatisfy { $0.ok && $0.pod == "good" }, "\(run.value) kfwd: \(run.lines)")
            #expect(run.lines.contains("Connection on \(run.lines.first { $0.hasPrefix("Forwarding") }.map { String($0.split(separator: ":")[1].prefix { $0.isNumber }) } ?? "") -> pod deaf"), "the deaf pod was tried: \(run.lines)")
            #expect(!run.lines.contains { $0.hasPrefix("error") })
        }
    }

    /// Make-before-break: a pod deleted gracefully keeps serving the transfer already running
    /// through it until it ends, while new connections go to the other pod at once.
    @Test func aGracefullyDeletedPodFinishesItsLongTransferWhileNewConnectionsMoveOn() async throws {
        let manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: files, namespace: default}
            spec:
              replicas: 2
              selector: {matchLabels: {app: files}}
              template:
                metadata:
                  labels: {app: files}
                  annotations: {kubesim.io/shutdown-delay-seconds: "10"}
                spec:
                  containers: [{name: files, image: kubesim/tcp-echo, ports: [{containerPort: 7000}]}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: files, namespace: default}
            spec:
              selector: {app: files}
              ports: [{port: 7000}]
            """
        try await SimHarness.run(manifest: manifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=files").count == 2 }
            let run = try await runKfwd(self.forward(harness, ["svc/files", ":7000", "-v"])) { lines in
                let port = try await forwardedPort(lines)
                // The pod of the index-th connection, from `Connection on PORT -> pod NAME`.
                let routed = { @Sendable (index: Int) async -> String? in
                    await lines.nth(index + 1) { $0.hasPrefix("Connection on") }?.split(separator: " ").last.map(String.init)
                }
                let total = 24 << 20
                return try await withThrowingTaskGroup(of: (Int, [String])?.self) { group in
                    group.addTask {
                        // Spread over about 3 s, so that the deletion lands in the middle.
                        let pause = Duration.seconds(3.0 * Double(64 << 10) / Double(total))
                        return (try await EchoClient.roundTrip(port: port, count: total, seed: 0, chunk: 64 << 10, pause: pause), [])
                    }
                    guard let serving = await routed(0) else { throw KubeSimTestError("no route for the transfer: \(lines.all)") }
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(try await self.kubectl(harness, ["delete", "pod", serving, "--wait=false"]).succeeded)
                    try await harness.sim.waitUntil { !$0.readyPods("app=files").contains { $0[path: ["metadata", "name"]]?.stringValue == serving } }
                    var others: [String] = []
                    for index in 1...4 {
                        #expect(try await EchoClient.roundTrip(port: port, count: 1000, seed: index) == 1000)
                        others.append(await routed(index) ?? "none")
                    }
                    group.addTask { (-1, [serving] + others) }
                    var transferred = 0
                    var pods: [String] = []
                    for try await result in group {
                        if let (count, names) = result { if count >= 0 { transferred = count } else { pods = names } }
                    }
                    return (transferred, pods)
                }
            }
            let (transferred, pods) = run.value
            #expect(transferred == 24 << 20, "the transfer through the terminating pod was cut at \(transferred) bytes")
            #expect(pods.count == 5 && !pods.dropFirst().contains(pods[0]), "new connections went to the terminating pod: \(pods)")
        }
    }

    /// Warm streams are for WebSocket, which needs a connection per stream; SPDY keeps sessions.
    @Test func warmStreamsAreOpenedAheadAndNeverHandOutAPodThatIsGone() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await self.readyWeb(harness)
            let names = { @Sendable (sim: KubeSim) in sim.readyPods("app=web").compactMap { $0[path: ["metadata", "name"]]?.stringValue } }
            let run = try await runKfwd(self.forward(harness, ["svc/web", ":80", "--warm-streams", "--transport", "websocket"])) { lines in
                let port = try await forwardedPort(lines)
                // Before any local connection, the pods already see the streams opened ahead.
                try await harness.sim.waitUntil { sim in names(sim).reduce(0) { $0 + sim.backendConnections(pod: $1) } >= 1 }
                var before: [RequestLoop.Result] = []
                for _ in 0..<6 { before.append(try await RequestLoop.request(port: port)) }
                let old = Set(names(harness.sim))
                for pod in old { try harness.sim.delete("pods", name: pod, gracePeriod: 0) }
                try await harness.sim.waitUntil { sim in Set(names(sim)).isDisjoint(with: old) && names(sim).count == 2 }
                // Once kfwd knows the pods went (a request sent before its watch says so may
                // meet a warm stream to a deleted pod, as any client of that pod would).
                let replacements = names(harness.sim)
                guard await lines.first(where: { line in line.hasPrefix("Ready:") && replacements.allSatisfy { line.contains($0) } }) != nil else {
                    throw KubeSimTestError("kfwd never said it uses \(replacements): \(lines.all)")
                }
                var after: [RequestLoop.Result] = []
                for _ in 0..<6 { after.append(try await RequestLoop.request(port: port)) }
                return (before, after, old)
            }
            let (before, after, old) = run.value
            #expect(before.allSatisfy { $0.ok }, "\(before)")
            #expect(after.allSatisfy { $0.ok && !old.contains($0.pod ?? "") }, "\(after)")
        }
    }

    @Test func aMissingServiceHoldsConnectionsThenSaysWhy() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            let run = try await runKfwd(self.forward(harness, ["svc/missing", ":80", "--pod-wait", "1"])) { lines in
                let port = try await forwardedPort(lines)
                let result = try await RequestLoop.request(port: port)
                let error = await lines.first { $0.hasPrefix("error:") }
                return (result, error ?? "")
            }
            #expect(!run.value.0.ok)
            #expect(run.lines.contains { $0.contains("service missing does not exist") }, "\(run.lines)")
            #expect(run.value.1.contains("no ready pod of svc/missing within 1.0 seconds"), "\(run.value.1)")
            #expect(run.status.isSuccess, "one bad connection does not end the forward")
        }
    }
}

/// Sequential HTTP requests, about 20 a second, each on a new connection (as a curl loop makes
/// them), until the body of `running` returns. The body can wait for the loop's progress.
final class RequestLoop: Sendable {
    struct Result: Sendable, CustomStringConvertible {
        let start: ContinuousClock.Instant
        var end: ContinuousClock.Instant = .now
        let ok: Bool
        let pod: String?
        let detail: String
        var description: String { "\(self.ok ? "ok" : "FAILED") \(self.detail)" }
    }

    private struct State {
        var results: [Result] = []
        var watchers: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextWatcher = 0
    }

    let port: Int
    private let state = Mutex(State())

    init(port: Int) {
        self.port = port
    }

    func running<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> ([Result], T) {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Stopped by cancellation; a request in flight then still completes.
                while !Task.isCancelled {
                    let result = (try? await Self.request(port: self.port)) ?? Result(start: .now, ok: false, pod: nil, detail: "connect failed")
                    if Task.isCancelled && !result.ok { break }
                    let watchers = self.state.withLock { state in
                        state.results.append(result)
                        return Array(state.watchers.values)
                    }
                    for watcher in watchers { watcher.yield() }
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            let value = try await body()
            group.cancelAll()
            try await group.waitForAll()
            return (self.state.withLock { $0.results }, value)
        }
    }

    /// Waits until the results so far satisfy `condition` (checked after each request); throws
    /// when `timeout` passes first, with the count so far.
    func waitUntil(timeout: Duration = .seconds(60), _ condition: @escaping @Sendable ([Result]) -> Bool) async throws {
        let (changes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = self.state.withLock { state in
            defer { state.nextWatcher += 1 }
            state.watchers[state.nextWatcher] = continuation
            return state.nextWatcher
        }
        defer { _ = self.state.withLock { $0.watchers.removeValue(forKey: id) } }
        continuation.yield()
        let met = try await withinTimeLimit(timeout) {
            for await _ in changes where condition(self.state.withLock { $0.results }) { return true }
            return false
        } ?? false
        let results = self.state.withLock { $0.results }
        if !met && !condition(results) {
            throw KubeSimTestError("the request loop did not get there within \(timeout): \(results.count) requests, \(results.filter { !$0.ok }.count) failed")
        }
    }

    /// One `GET /` with `Connection: close`: ok when a 200 arrives whole before the close.
    static func request(port: Int) async throws -> Result {
        let start = ContinuousClock.now
        let channel = try await EchoClient.connect(port: port)
        // A forward that never answers fails the request, not the whole run.
        let timeout = channel.channel.eventLoop.scheduleTask(in: .seconds(30)) { channel.channel.close(promise: nil) }
        defer { timeout.cancel() }
        let answer = try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n"))
            var answer = ""
            do {
                for try await buffer in inbound { answer += String(buffer: buffer) }
            } catch {
                answer += "\n<\(error)>"
            }
            return answer
        }
        let pod = answer.split(whereSeparator: \.isNewline).first { $0.hasPrefix("pod: ") }.map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespacesAndNewlines) }
        let ok = answer.hasPrefix("HTTP/1.1 200") && pod != nil
        return Result(start: start, ok: ok, pod: pod, detail: ok ? pod! : String(answer.prefix(120)))
    }
}
