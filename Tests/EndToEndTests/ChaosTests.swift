import Foundation
import KubeClient
import KubeSim
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Faults a laptop, a VPN or an apiserver inflicts, each played by KubeSim (`kubesim fault`, or
/// the SIGSTOP of a frozen process) under a curl loop through a forward run by the daemon: the
/// requests that fail during the fault, the time from its end to the first success, none
/// failing after, and what the event stream (`kfwd status --watch -o json`) says. The figures
/// are printed (`chaos:` lines) for docs/reliability.md.
@Suite(.timeLimit(.minutes(3)))
struct ChaosTests {
    /// A daemon forwarding svc/web (two pods) on `port`, and its event stream.
    struct Fixture: Sendable {
        let harness: SimHarness
        let port: Int
        let daemon: pid_t
        let events: OutputLines

        /// `kubesim fault ARGUMENTS` against this cluster, as a user types it.
        func fault(_ arguments: [String]) async throws {
            let result = try await runCommand(kubesimPath, ["fault"] + arguments + ["--kubeconfig", self.harness.kubeconfigPath])
            guard result.succeeded else { throw KubeSimTestError("kubesim fault \(arguments) failed: \(result.stderr)") }
        }

        /// Waits until the API server answers HTTPS again (any status), and says when.
        func apiAnswers() async throws -> ContinuousClock.Instant {
            for _ in 0..<200 {
                let answer = try await runCommand("curl", ["-sk", "-o", "/dev/null", "--max-time", "1", "\(self.harness.sim.url)/version"])
                if answer.succeeded { return .now }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw KubeSimTestError("the API server did not come back")
        }

        /// Force-deletes one ready pod of svc/web and waits for the stream to say that new
        /// connections go to two pods without it.
        func deletingAPodIsFollowed() async throws -> Bool {
            let pod = try #require(self.harness.sim.readyPods("app=web").first?[path: ["metadata", "name"]]?.stringValue)
            try self.harness.sim.delete("pods", name: pod, gracePeriod: 0)
            return await Record.first(self.events, timeout: .seconds(20)) {
                $0.forward == "web" && $0.state == "running" && $0.pods.count == 2 && !$0.pods.contains(pod)
            } != nil
        }
    }

    /// One line of the event stream.
    typealias Record = EventStreamTests.Record

    static func withForward(_ body: @escaping @Sendable (Fixture) async throws -> Void) async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            try await Self.withDaemonForward(kubeconfig: harness.kubeconfigPath) { port, daemon, events in
                try await body(Fixture(harness: harness, port: port, daemon: daemon, events: events))
            }
        }
    }

    /// A daemon (settling network changes for 1 s) forwarding `target` (svc/web) of the cluster
    /// `kubeconfig` names as the forward `web`, once it runs with `pods` pods: its local port, its
    /// pid and its event stream. `settings` are set in its store first.
    static func withDaemonForward(
        kubeconfig: String, target: String = "svc/web", remote: Int = 80, pods: Int = 2, settings: [String: String] = [:], adding extra: [String] = [],
        _ body: @escaping @Sendable (_ port: Int, _ daemon: pid_t, _ events: OutputLines) async throws -> Void
    ) async throws {
        try await StoreCommandTests.withHome { home in
            let port = try await freeLoopbackPort()
            for (name, value) in settings { #expect(try await StoreCommandTests.kfwd(home, ["settings", "set", name, value]).succeeded) }
            let added = try await StoreCommandTests.kfwd(home, ["add", "web", target, "\(port):\(remote)", "--kubeconfig", kubeconfig] + extra)
            #expect(added.succeeded, "\(added.stderr)")
            _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon", "--settle", "1"], environment: ["KFWD_HOME": home]) { daemon in
                guard let ready = await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }),
                    let pid = ready.split(separator: "pid ").last.flatMap({ pid_t($0.prefix { $0.isNumber }) })
                else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                #expect(try await StoreCommandTests.kfwd(home, ["start", "web"]).succeeded)
                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["status", "--watch", "-o", "json"], environment: ["KFWD_HOME": home]) { events in
                    guard await Record.first(events, where: { $0.forward == "web" && $0.state == "running" && $0.pods.count == pods }) != nil else {
                        throw KubeSimTestError("web never ran: \(events.all) \(daemon.all)")
                    }
                    try await body(port, pid, events)
                }
            }
        }
    }

    /// Waits for a success before the fault, so that what follows measures the fault.
    static func healthy(_ loop: CurlLoop) async throws {
        guard await loop.firstSuccess(startedAfter: .now - .seconds(1), timeout: .seconds(20)) != nil else {
            throw KubeSimTestError("no request succeeded before the fault: \(loop.requests.count) tried")
        }
    }

    /// After `recovered`: the first success, how long it took, and no failure in the `settle`
    /// seconds after it.
    static func recovery(_ loop: CurlLoop, from recovered: ContinuousClock.Instant, name: String, faultStarted: ContinuousClock.Instant) async throws -> Duration {
        let first = try #require(await loop.firstSuccess(startedAfter: recovered), "\(name): no request succeeded after the fault")
        try await Task.sleep(for: .seconds(3))
        let after = first..<ContinuousClock.now
        let failedAfter = loop.failures(startedIn: after)
        let during = loop.failures(startedIn: faultStarted..<recovered)
        print("chaos: \(name): \(during) of \(loop.count(startedIn: faultStarted..<recovered)) requests failed during the fault; first success \(String(format: "%.2f", (first - recovered).inSeconds)) s after it ended; \(failedAfter) of \(loop.count(startedIn: after)) failed after")
        #expect(failedAfter == 0, "\(name): requests failed after the recovery")
        return first - recovered
    }

    @Test func aFrozenDaemonWhoseConnectionsWentSilentServesWithinTwoSecondsOfWaking() async throws {
        try await Self.withForward { fixture in
            let loop = CurlLoop(port: fixture.port, maxTime: 1)
            try await loop.during {
                try await Self.healthy(loop)
                // A laptop closed while its VPN drops: every connection to the cluster is dead
                // when kfwd runs again, and nothing told it.
                fixture.harness.sim.silenceConnections()
                let stopped = ContinuousClock.now
                kill(fixture.daemon, SIGSTOP)
                try await Task.sleep(for: .seconds(30))
                let resumed = ContinuousClock.now
                kill(fixture.daemon, SIGCONT)
                let took = try await Self.recovery(loop, from: resumed, name: "frozen 30 s, connections silenced", faultStarted: stopped)
                #expect(took < .seconds(2))

                let changed = await Record.first(fixture.events) { $0.network == "changed" && ($0.message?.contains("did not run for") ?? false) }
                #expect(changed != nil, "\(fixture.events.all)")
                #expect(await Record.first(fixture.events) { $0.forward == "web" && $0.network == "reestablished" } != nil)
                // The watches were dead too: a pod deleted now is still followed.
                #expect(try await fixture.deletingAPodIsFollowed(), "\(fixture.events.all)")
            }
        }
    }

    @Test func anAPIServerBlackholedForThirtySecondsIsServedAgainAtOnce() async throws {
        try await Self.withForward { fixture in
            let loop = CurlLoop(port: fixture.port)
            try await loop.during {
                try await Self.healthy(loop)
                let started = ContinuousClock.now
                try await fixture.fault(["blackhole", "--for", "30"])
                let ended = started + .seconds(30)
                try await Task.sleep(until: ended)
                let took = try await Self.recovery(loop, from: ended, name: "API blackholed 30 s", faultStarted: started)
                #expect(took < .seconds(5))
                #expect(try await fixture.deletingAPodIsFollowed(), "\(fixture.events.all)")
            }
        }
    }

    @Test func anAPIServerRestartIsRiddenThrough() async throws {
        try await Self.withForward { fixture in
            let loop = CurlLoop(port: fixture.port)
            try await loop.during {
                try await Self.healthy(loop)
                let started = ContinuousClock.now
                try await fixture.fault(["restart-api", "--for", "5"])
                // A patient client that connects while the API server is down is held, not
                // refused, and served once it is back.
                try await Task.sleep(for: .seconds(1))
                async let patient = runCommand("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", "http://127.0.0.1:\(fixture.port)/"])
                let back = try await fixture.apiAnswers()
                let took = try await Self.recovery(loop, from: back, name: "API restarted, down 5 s", faultStarted: started)
                #expect(took < .seconds(3))
                let held = try await patient
                #expect(held.stdout == "200", "a connection made during the outage: \(held.stdout) \(held.stderr) \(fixture.events.all.filter { $0.contains("connection") || $0.contains("network") })")
                #expect(try await fixture.deletingAPodIsFollowed(), "\(fixture.events.all)")
            }
        }
    }

    @Test func droppedAndExpiredWatchesStillFollowThePods() async throws {
        try await Self.withForward { fixture in
            let loop = CurlLoop(port: fixture.port)
            try await loop.during {
                try await Self.healthy(loop)
                try await fixture.fault(["drop-watches"])
                #expect(try await fixture.deletingAPodIsFollowed(), "after drop-watches: \(fixture.events.all)")
                try await fixture.fault(["expire-watches"])
                #expect(try await fixture.deletingAPodIsFollowed(), "after expire-watches: \(fixture.events.all)")
                let requests = loop.requests
                print("chaos: watches dropped, then expired, a pod force-deleted after each: \(requests.filter { !$0.ok }.count) of \(requests.count) requests failed")
            }
        }
    }

    @Test func theLinkToTheClusterDownTwentySecondsAndBack() async throws {
        let ran: Bool? = try await NetworkNamespace.with { namespace in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-netns-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let kubeconfig = directory.appendingPathComponent("kubeconfig").path
            let manifest = directory.appendingPathComponent("web.yaml")
            try Data(webManifest.utf8).write(to: manifest)
            // The cluster lives in the namespace, reached only over the pair.
            let serve = ["netns", "exec", namespace.name, kubesimPath, "serve", "--address", namespace.address, "--kubeconfig", kubeconfig, "--manifests", manifest.path]
            _ = try await runLongLived(.name("ip"), serve) { sim in
                guard await sim.first(where: { $0.hasPrefix("kubesim ready") }) != nil else { throw KubeSimTestError("kubesim did not start in \(namespace.name): \(sim.all)") }
                try await Self.withDaemonForward(kubeconfig: kubeconfig) { port, _, events in
                    let loop = CurlLoop(port: port)
                    try await loop.during {
                        try await Self.healthy(loop)
                        let started = ContinuousClock.now
                        try await namespace.setLink(up: false)
                        let down = await Record.first(events) { $0.network == "changed" && ($0.message?.contains("\(namespace.hostLink) link down") ?? false) }
                        #expect(down != nil, "the link going down is noticed: \(events.all)")
                        #expect(await Record.first(events) { $0.network == "unreachable" && $0.state == "degraded" } != nil, "and the cluster found unreachable")
                        try await Task.sleep(until: started + .seconds(20))
                        try await namespace.setLink(up: true)
                        let up = ContinuousClock.now
                        let took = try await Self.recovery(loop, from: up, name: "link to the cluster down 20 s", faultStarted: started)
                        #expect(took < .seconds(5))
                        let back = try #require(await Record.first(events) { $0.network == "reestablished" && $0.state == "running" }, "\(events.all)")
                        #expect((back.outage ?? 0) >= 15, "the outage is measured from the first failed probe: \(back.outage ?? 0) s")
                    }
                }
            }
            return true
        }
        if ran == nil { print("SKIPPED: theLinkToTheClusterDownTwentySecondsAndBack needs network namespaces") }
    }

    /// The token an exec plugin gave expires (is revoked) while every connection to the API
    /// server is cut: the forward's new sessions and watches are refused with 401, run the
    /// plugin again, and go on with the new token.
    @Test func anExpiredTokenIsRefreshedByTheExecPluginAfterAnAPIRestart() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            harness.sim.setToken("token-one", user: "exec-user")
            try harness.writeTokenPlugin(token: "token-one")
            let user = "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: ./plugin.sh\n  interactiveMode: Never"
            let kubeconfig = try harness.write("exec-config", harness.kubeconfig(user: user))
            try await Self.withDaemonForward(kubeconfig: kubeconfig) { port, _, _ in
                let loop = CurlLoop(port: port)
                try await loop.during {
                    try await Self.healthy(loop)
                    let runsBefore = try String(contentsOf: harness.directory.appendingPathComponent("runs"), encoding: .utf8).split(separator: "\n").count
                    // The token is rotated and the old one revoked; then every connection is cut.
                    harness.sim.setToken("token-two", user: "exec-user")
                    _ = try harness.write("current-token", "token-two")
                    harness.sim.setToken("token-one", user: nil)
                    let started = ContinuousClock.now
                    try await harness.sim.inject(try KubeSimFault(.restartAPI))
                    let took = try await Self.recovery(loop, from: ContinuousClock.now, name: "token revoked, API restarted (exec plugin refreshes)", faultStarted: started)
                    // The plugin is a process of its own: on a loaded machine its start alone
                    // takes a while.
                    #expect(took < .seconds(10))
                    let runsAfter = try String(contentsOf: harness.directory.appendingPathComponent("runs"), encoding: .utf8).split(separator: "\n").count
                    #expect(runsAfter > runsBefore, "the plugin ran again for a new token")
                    #expect(harness.sim.requests.suffix(5).allSatisfy { $0.user == "exec-user" })
                }
            }
        }
    }
}

extension ChaosTests {
    /// `kubectl config use-context` under the forward moves it to another cluster: new
    /// connections go to that cluster's pods.
    @Test func aContextSwitchMovesTheForwardToTheOtherCluster() async throws {
        try await SimHarness.run(manifest: webManifest) { first in
            try await SimHarness.run(manifest: webManifest) { second in
                try await first.sim.waitUntil { $0.readyPods("app=web").count == 2 }
                try await second.sim.waitUntil { $0.readyPods("app=web").count == 2 }
                let theirs = Set(second.sim.readyPods("app=web").compactMap { $0[path: ["metadata", "name"]]?.stringValue })
                // One kubeconfig of two files, as KUBECONFIG merges them: the first names the
                // current context, the second adds the other cluster as context `b`.
                let other = try first.write("other-cluster", second.sim.kubeconfig(context: "b", user: .entry(name: "b-admin", yaml: "token: \(second.sim.adminToken)")))
                let kubeconfig = "\(first.kubeconfigPath):\(other)"
                try await Self.withDaemonForward(kubeconfig: kubeconfig) { port, _, events in
                    let loop = CurlLoop(port: port)
                    try await loop.during {
                        try await Self.healthy(loop)
                        let started = ContinuousClock.now
                        let switched = try await runCommand("kubectl", ["config", "use-context", "b"], environment: ["KUBECONFIG": kubeconfig, "HOME": first.directory.path])
                        #expect(switched.succeeded, "\(switched.stderr)")
                        let moved = await Record.first(events) { $0.forward == "web" && $0.state == "running" && !$0.pods.isEmpty && $0.pods.allSatisfy(theirs.contains) }
                        #expect(moved != nil, "the forward follows the switch: \(events.all.filter { !$0.contains("\"connection\"") && !$0.contains("\"routed\"") })")
                        let took = try await Self.recovery(loop, from: .now, name: "context switched to another cluster (kubectl config use-context)", faultStarted: started)
                        #expect(took < .seconds(3))
                        #expect(await Record.first(events) { $0.type == "kubeconfig" && ($0.message?.contains("context 'b'") ?? false) } != nil)
                        #expect(second.sim.portForwardUpgrades.count > 0, "streams go to the other cluster")
                    }
                }
            }
        }
    }

    /// The relay pod of an `ip/` forward force-deleted under a curl loop: kfwd notices it lost
    /// the relay, deploys another, and the loop goes on through it.
    @Test func aDeletedRelayPodIsReplacedUnderTheForward() async throws {
        try await SimHarness.run(manifest: webManifest, configure: { $0.mapRelayImage() }) { harness in
            try await harness.withLoopbackWebServer { webPort in
                try await Self.withDaemonForward(
                    kubeconfig: harness.kubeconfigPath, target: "ip/127.0.0.1", remote: webPort, pods: 1, settings: ["relay_image": testRelayImage]
                ) { port, _, events in
                    let loop = CurlLoop(port: port)
                    try await loop.during {
                        try await Self.healthy(loop)
                        let old = harness.sim.relayPods().compactMap { $0[path: ["metadata", "name"]]?.stringValue }
                        #expect(old.count == 1)
                        let started = ContinuousClock.now
                        for pod in old { try harness.sim.delete("pods", name: pod, gracePeriod: 0) }
                        let replaced = await Record.first(events) { $0.forward == "web" && $0.pods.count == 1 && !old.contains($0.pods[0]) }
                        #expect(replaced != nil, "a new relay: \(events.all)")
                        let took = try await Self.recovery(loop, from: .now, name: "relay pod force-deleted", faultStarted: started)
                        #expect(took < .seconds(3))
                    }
                }
            }
        }
    }
}

extension EventStreamTests.Record {
    static func first(_ lines: OutputLines, timeout: Duration = .seconds(30), where predicate: @escaping @Sendable (Self) -> Bool) async -> Self? {
        await EventStreamTests.records(lines, timeout: timeout, where: predicate)
    }
}
