import Forwarding
import Foundation
import KubeClient
import KubeSim
import NIOCore
import NIOPosix
import Testing

/// The engine's `Supervisor` API, in-process, as a daemon will host it.
@Suite(.serialized) struct SupervisorTests {
    @Test func startListStopAndAStreamOfStatesThatTellTheTruth() async throws {
        try await self.running(Supervisor()) { harness, supervisor, updates in
            let spec = self.web("web", harness)
            try supervisor.start(spec)
            #expect(throws: ForwardError.self) { try supervisor.start(spec) }
            var seen: [ForwardStatus] = []
            for await status in updates {
                seen.append(status)
                if status.state.name == "running" { break }
            }
            #expect(seen.first?.state.name == "starting")
            let running = try #require(seen.last)
            #expect(running.pods.count == 2 && running.pods.allSatisfy { $0.hasPrefix("web-") }, "\(running)")
            let port = try #require(running.listening.first?.port)
            #expect(try await RequestLoop.request(port: port).ok)
            #expect(try await RequestLoop.request(port: port).ok)
            #expect(supervisor.list().map(\.alias) == ["web"])
            // Connections are counted as they are reported, a batch at a time.
            for await status in updates where status.connections >= 2 { break }
            #expect(supervisor.status("web")?.connections == 2)

            // The pods change under it: the status follows the watch.
            for pod in harness.sim.readyPods("app=web") {
                try harness.sim.delete("pods", name: pod[path: ["metadata", "name"]]!.stringValue!, gracePeriod: 0)
            }
            for await status in updates where status.state.name == "running" && Set(status.pods).isDisjoint(with: running.pods) && status.pods.count == 2 {
                break
            }

            #expect(await supervisor.stop("web"))
            let stopped = try #require(supervisor.status("web"))
            #expect(stopped.state == .stopped && stopped.listening.isEmpty && stopped.pods.isEmpty)
            // The port is free again: this test can bind it (connecting would race with the
            // other tests' listeners, which may be given the same port once it is free).
            let rebound = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)  // as kfwd binds: TIME_WAIT is not a listener
                .bind(host: "127.0.0.1", port: port).get()
            try await rebound.close()
            #expect(await supervisor.stop("nothing") == false)
            // A stopped alias can be started again.
            try supervisor.start(spec)
            for await status in updates where status.state.name == "running" { break }
        }
    }

    /// A connection open when its forward stops is closed with it, whether a task serves it or
    /// its event loop alone (joined to its pod's session as it was accepted). It sends nothing,
    /// so the pod would keep it open.
    @Test(arguments: [false, true])
    func aStoppedForwardClosesTheConnectionsItHeld(toPod: Bool) async throws {
        try await self.running(Supervisor()) { harness, supervisor, updates in
            var spec = self.web("held", harness)
            if toPod {
                let pod = try #require(harness.sim.readyPods("app=web").first?[path: ["metadata", "name"]]?.stringValue)
                spec = ForwardSpec(alias: "held", kubeconfig: harness.kubeconfigPath, target: .pod(pod), mappings: [PortMapping(local: 0, remote: 8080)])
            }
            try supervisor.start(spec)
            var listening: Int?
            for await status in updates where status.state.name == "running" {
                listening = status.listening.first?.port
                break
            }
            let port = try #require(listening)
            // A pod forward dials its session on its first connection; the held one is joined.
            #expect(try await RequestLoop.request(port: port).ok)
            let held = try await EchoClient.connect(port: port)
            let closed = try await withThrowingTaskGroup(of: Bool?.self) { group in
                group.addTask {
                    try await held.executeThenClose { inbound, _ in
                        for await status in updates where status.connections == 2 { break }
                        #expect(await supervisor.stop("held"))
                        for try await _ in inbound {}
                        return true
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(20))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            #expect(closed == true, "the connection held open was still open 20 s after its forward stopped")
        }
    }

    @Test func aForwardThatCannotStartRetriesWhileTheOthersServe() async throws {
        let supervisor = Supervisor(backoff: Backoff(initial: .milliseconds(50), cap: .milliseconds(200)))
        try await self.running(supervisor) { harness, supervisor, updates in
            var bad = self.web("bad", harness)
            bad.context = "elsewhere"
            try supervisor.start(bad)
            try supervisor.start(self.web("good", harness))
            var retries = 0
            for await status in updates {
                if status.alias == "bad", case .retrying(let reason, _, _) = status.state {
                    #expect(reason.message.contains("context 'elsewhere'"), "\(reason)")
                    retries = status.retries
                }
                if retries >= 3, supervisor.status("good")?.state.name == "running" { break }
            }
            let port = try #require(supervisor.status("good")?.listening.first?.port)
            #expect(try await RequestLoop.request(port: port).ok)
            #expect(supervisor.status("bad")?.lastError?.message.contains("elsewhere") == true)
        }
        // Cancelling the supervisor's run stops everything it started.
        #expect(supervisor.list().allSatisfy { $0.state == .stopped }, "\(supervisor.list())")
    }

    @Test func anUnreachableAPIServerIsVisibleAndTheForwardComesBackWithIt() async throws {
        try await self.running(Supervisor()) { harness, supervisor, updates in
            try supervisor.start(self.web("web", harness))
            for await status in updates where status.state.name == "running" { break }
            let port = try #require(supervisor.status("web")?.listening.first?.port)

            await harness.sim.stopAPI()
            var down: ForwardStatus?
            for await status in updates where status.apiError != nil {
                down = status
                break
            }
            #expect(down?.apiError?.message.contains("127.0.0.1") == true, "\(String(describing: down))")
            #expect(down?.listening.isEmpty == false, "the forward keeps its port while the API is away")

            try await harness.sim.startAPI()
            for await status in updates where status.apiError == nil { break }
            #expect(try await RequestLoop.request(port: port).ok)
        }
    }

    @Test func restartAndReloadRunTheForwardAgainItsNewSpecIncluded() async throws {
        try await self.running(Supervisor()) { harness, supervisor, updates in
            try supervisor.start(self.web("web", harness))
            for await status in updates where status.state.name == "running" { break }
            #expect(supervisor.restart("web"))
            var stopping = false
            for await status in updates where status.alias == "web" {
                if status.state == .stopping(restart: true) { stopping = true }
                if stopping, status.state.name == "running", !status.listening.isEmpty { break }
            }
            #expect(stopping, "a restart closes the ports first")
            #expect(supervisor.status("web")?.retries == 0)

            // Reloaded with a second port: it runs again on both.
            var reloaded = self.web("web", harness)
            reloaded.mappings = [PortMapping(local: 0, remote: 80), PortMapping(local: 0, remote: 80)]
            #expect(supervisor.reload(reloaded))
            // Two ports (each on every loopback address).
            for await status in updates where status.alias == "web" && status.state.name == "running" && Set(status.listening.map(\.port)).count == 2 { break }
            #expect(supervisor.spec("web") == reloaded)
            let second = try #require(supervisor.status("web")?.listening.last?.port)
            #expect(try await RequestLoop.request(port: second).ok)

            // A stopped forward keeps a reload for its next start, and stays stopped.
            #expect(await supervisor.stop("web"))
            #expect(supervisor.reload(self.web("web", harness)))
            #expect(supervisor.status("web")?.state == .stopped)
            #expect(supervisor.spec("web")?.mappings.count == 1)
            #expect(!supervisor.restart("nothing") && !supervisor.reload(self.web("nothing", harness)))
        }
    }

    /// A forward of `svc/web` port 80 on a free local port.
    /// Ten forwards to one Service, each used, dial one port-forward session per pod between
    /// them, not one per pod per forward (twenty here): a session carries streams for any forward
    /// of the same cluster and user. One that stops leaves the others their sessions.
    @Test func forwardsToTheSamePodsShareOneSessionPerPod() async throws {
        try await self.running(Supervisor()) { harness, supervisor, updates in
            let aliases = (0..<10).map { "web\($0)" }
            for alias in aliases { try supervisor.start(self.web(alias, harness)) }
            var ports: [String: Int] = [:]
            for await status in updates where status.state.name == "running" && status.pods.count == 2 {
                ports[status.alias] = status.listening.first?.port
                if ports.count == aliases.count { break }
            }
            for port in ports.values {
                #expect(try await RequestLoop.request(port: port).ok)
                #expect(try await RequestLoop.request(port: port).ok)
            }
            #expect(harness.sim.portForwardUpgrades.count == 2, "one session per pod: \(harness.sim.portForwardUpgrades)")

            // Nine stop: the last one's connections still go through the sessions there are.
            for alias in aliases.dropLast() { #expect(await supervisor.stop(alias)) }
            let last = try #require(ports[aliases.last!])
            for _ in 0..<4 { #expect(try await RequestLoop.request(port: last).ok) }
            #expect(harness.sim.portForwardUpgrades.count == 2, "\(harness.sim.portForwardUpgrades)")
        }
    }

    private func web(_ alias: String, _ harness: SimHarness) -> ForwardSpec {
        ForwardSpec(alias: alias, kubeconfig: harness.kubeconfigPath, target: .service("web"), mappings: [PortMapping(local: 0, remote: 80)])
    }

    /// Runs `supervisor` against KubeSim's two web pods for the body, then shuts it down.
    private func running(
        _ supervisor: Supervisor, _ body: @escaping @Sendable (SimHarness, Supervisor, AsyncStream<ForwardStatus>) async throws -> Void
    ) async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let updates = supervisor.updates()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await supervisor.run() }
                try await body(harness, supervisor, updates)
                supervisor.shutdown()
                try await group.waitForAll()
            }
        }
    }
}
