import Foundation
import KubeSim
import Testing

/// Forwards follow their kubeconfig on disk: `kubectl config use-context` and rotated
/// credentials take effect for new connections without a restart, the ports staying bound.
@Suite(.serialized) struct KubeconfigFollowTests {
    private func kubectl(_ harness: SimHarness, _ arguments: [String]) async throws -> CommandResult {
        try await runCommand("kubectl", arguments + ["--kubeconfig", harness.kubeconfigPath], environment: ["HOME": harness.directory.path])
    }

    /// An http-echo pod named `solo`.
    private static func soloPod(in namespace: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: solo, namespace: \(namespace)}
        spec:
          containers: [{name: web, image: kubesim/http-echo, ports: [{containerPort: 8080}]}]
        """
    }

    /// Context `broken`: the same server and user, but a cluster CA that is not a certificate.
    private func addBrokenContext(_ harness: SimHarness) async throws {
        let garbage = try harness.write("not-a-ca.pem", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
        #expect(try await self.kubectl(harness, ["config", "set-cluster", "broken", "--server=\(harness.sim.url)", "--certificate-authority=\(garbage)", "--embed-certs"]).succeeded)
        #expect(try await self.kubectl(harness, ["config", "set-context", "broken", "--cluster=broken", "--user=kubesim-admin"]).succeeded)
    }

    @Test func aContextSwitchMovesNewConnectionsToTheNewContext() async throws {
        let manifest = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: other}
            ---
            \(webManifest)
            ---
            \(webManifest(in: "other"))
            """
        try await SimHarness.run(manifest: manifest) { harness in
            try await harness.sim.waitUntil { sim in
                sim.readyPods("app=web").count == 2 && ((try? sim.objects("pods", namespace: "other")) ?? []).filter(isReady).count == 2
            }
            let other = Set(try harness.sim.objects("pods", namespace: "other").compactMap { $0[path: ["metadata", "name"]]?.stringValue })
            // Context b: the same cluster and user, namespace other.
            #expect(try await self.kubectl(harness, ["config", "set-context", "b", "--cluster=kubesim", "--user=kubesim-admin", "--namespace=other"]).succeeded)
            let run = try await runKfwd(["forward", "svc/web", ":80", "--kubeconfig", harness.kubeconfigPath]) { lines in
                let port = try await forwardedPort(lines)
                let before = try await RequestLoop.request(port: port).pod ?? "failed"
                let switched = try await self.kubectl(harness, ["config", "use-context", "b"])
                #expect(switched.succeeded, "\(switched.stderr)")
                let followed = await lines.first { $0.hasPrefix("The kubeconfig changed") } ?? "none"
                var after: [String] = []
                for _ in 0..<4 { after.append(try await RequestLoop.request(port: port).pod ?? "failed") }
                return (before, followed, after)
            }
            let (before, followed, after) = run.value
            #expect(!other.contains(before) && before.hasPrefix("web-"), "\(before)")
            #expect(followed == "The kubeconfig changed: new connections use context 'b' (\(harness.sim.url), namespace other)", "\(run.lines)")
            #expect(after.allSatisfy(other.contains), "\(after) should be pods of namespace other: \(other)")
            #expect(run.status.isSuccess)
        }
    }

    /// pod/NAME follows too: after a switch, new connections go to the pod of that name in the
    /// new context's namespace, and a deletion is watched there.
    @Test func aPodForwardFollowsAContextSwitchToThePodOfThatName() async throws {
        let manifest = "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\n\(Self.soloPod(in: "default"))\n---\n\(Self.soloPod(in: "other"))"
        try await SimHarness.run(manifest: manifest) { harness in
            try await harness.sim.waitUntil { sim in
                isReady(sim.object("pods", name: "solo")) && isReady(sim.object("pods", namespace: "other", name: "solo"))
            }
            #expect(try await self.kubectl(harness, ["config", "set-context", "b", "--cluster=kubesim", "--user=kubesim-admin", "--namespace=other"]).succeeded)
            let namespaceOf = { @Sendable (port: Int) async throws -> String in
                let answer = try await runCommand("curl", ["-s", "--max-time", "10", "http://127.0.0.1:\(port)/"]).stdout
                return answer.split(separator: "\n").first { $0.hasPrefix("namespace: ") }.map { String($0.dropFirst("namespace: ".count)) } ?? "failed"
            }
            let run = try await runKfwd(["forward", "pod/solo", ":8080", "--kubeconfig", harness.kubeconfigPath]) { lines in
                let port = try await forwardedPort(lines)
                let before = try await namespaceOf(port)
                // The new context's pod list is slow to come: the deletion below lands before it
                // (as it did once on a loaded machine), and must still end the forward.
                harness.sim.responseDelay = .seconds(3)
                #expect(try await self.kubectl(harness, ["config", "use-context", "b"]).succeeded)
                _ = await lines.first { $0.hasPrefix("The kubeconfig changed") }
                let after = try await namespaceOf(port)
                // The pod now forwarded to is the one in `other`: its deletion ends the forward.
                try harness.sim.delete("pods", namespace: "other", name: "solo", gracePeriod: 0)
                await lines.untilEnd()
                return (before, after)
            }
            #expect(run.value.0 == "default")
            #expect(run.value.1 == "other", "\(run.lines)")
            #expect(run.lines.contains { $0.hasPrefix("error: pod solo in namespace other was deleted") }, "\(run.lines)")
            #expect(run.status == .exited(1))
        }
    }

    /// A switch to a context kfwd cannot connect with (its cluster's CA is not a certificate):
    /// the pod forward says so and carries on in the context it had, still watching its pod there.
    @Test func aPodForwardKeepsItsContextWhenTheNewOneCannotBeUsed() async throws {
        try await SimHarness.run(manifest: Self.soloPod(in: "default")) { harness in
            try await harness.sim.waitUntil { isReady($0.object("pods", name: "solo")) }
            try await self.addBrokenContext(harness)
            let run = try await runKfwd(["forward", "pod/solo", ":8080", "--kubeconfig", harness.kubeconfigPath]) { lines in
                let port = try await forwardedPort(lines)
                #expect(try await RequestLoop.request(port: port).ok)
                #expect(try await self.kubectl(harness, ["config", "use-context", "broken"]).succeeded)
                let said = await lines.first { $0.contains("cannot be used") }
                // Still forwarding, in the context it had.
                let after = try await RequestLoop.request(port: port)
                try harness.sim.delete("pods", name: "solo", gracePeriod: 0)
                await lines.untilEnd()
                return (said, after.ok)
            }
            #expect(run.value.0?.hasSuffix("keeping context 'kubesim'") == true, "\(run.lines)")
            #expect(run.value.1, "\(run.lines)")
            #expect(run.lines.contains { $0.hasPrefix("error: pod solo in namespace default was deleted") }, "\(run.lines)")
            #expect(run.status == .exited(1))
        }
    }

    /// The same for a Service: its forward keeps serving from the context it had.
    @Test func aServiceForwardKeepsItsContextWhenTheNewOneCannotBeUsed() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            try await self.addBrokenContext(harness)
            let run = try await runKfwd(["forward", "svc/web", ":80", "--kubeconfig", harness.kubeconfigPath]) { lines in
                let port = try await forwardedPort(lines)
                #expect(try await self.kubectl(harness, ["config", "use-context", "broken"]).succeeded)
                let said = await lines.first { $0.contains("cannot be used") }
                var after: [Bool] = []
                for _ in 0..<3 { after.append(try await RequestLoop.request(port: port).ok) }
                return (said, after)
            }
            #expect(run.value.0?.contains("the certificate-authority of cluster 'broken' is not a PEM certificate") == true, "\(run.lines)")
            #expect(run.value.1 == [true, true, true], "\(run.lines)")
            #expect(run.status.isSuccess)
        }
    }

    @Test func rotatedCredentialsAreTakenUpAndAHeldConnectionGoesThrough() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            harness.sim.setToken("first-token", user: "dev")
            try harness.sim.writeKubeconfig(to: harness.kubeconfigPath, user: .entry(name: "dev", yaml: "token: first-token"))
            // WebSocket upgrades once per connection, so each one shows the credentials in force
            // (a SPDY session authenticated once lives on after a revocation, as on a cluster).
            let run = try await runKfwd(["forward", "svc/web", ":80", "--kubeconfig", harness.kubeconfigPath, "--transport", "websocket"]) { lines in
                let port = try await forwardedPort(lines)
                let before = try await RequestLoop.request(port: port)
                // The old token stops working before the kubeconfig has the new one: a request
                // now is refused at the upgrade (the pod never saw it) and waits.
                harness.sim.setToken("second-token", user: "dev")
                harness.sim.setToken("first-token", user: nil)
                async let held = RequestLoop.request(port: port)
                _ = await lines.first { $0.hasPrefix("Waiting on local port") && $0.contains("refused") }
                try harness.sim.writeKubeconfig(to: harness.kubeconfigPath, user: .entry(name: "dev", yaml: "token: second-token"))
                let after = try await held
                return (before, after)
            }
            let (before, after) = run.value
            #expect(before.ok)
            #expect(after.ok, "the held request went through with the new token: \(after) \(run.lines)")
            #expect(run.lines.contains { $0.hasPrefix("The kubeconfig changed") }, "\(run.lines)")
            #expect(run.status.isSuccess)
        }
    }

    /// A forward through the relay (here to an address, a web server the test starts) takes up
    /// rotated credentials too: it runs again with them, where it used to keep the revoked ones
    /// and fail every new connection.
    @Test func aRelayForwardTakesUpRotatedCredentials() async throws {
        try await SimHarness.run(manifest: webManifest, configure: { $0.mapRelayImage() }) { harness in
            harness.sim.setToken("first-token", user: "dev")
            try harness.sim.writeKubeconfig(to: harness.kubeconfigPath, user: .entry(name: "dev", yaml: "token: first-token"))
            try await harness.withLoopbackWebServer { webPort in
                let run = try await runKfwd(["forward", "ip/127.0.0.1", ":\(webPort)", "--kubeconfig", harness.kubeconfigPath, "--relay-image", testRelayImage]) { lines in
                    let port = try await forwardedPort(lines)
                    let get = { @Sendable () async throws -> Bool in
                        try await runCommand("curl", ["-s", "--max-time", "10", "http://127.0.0.1:\(port)/"]).stdout.contains("Directory listing")
                    }
                    let before = try await get()
                    harness.sim.setToken("second-token", user: "dev")
                    harness.sim.setToken("first-token", user: nil)
                    try harness.sim.writeKubeconfig(to: harness.kubeconfigPath, user: .entry(name: "dev", yaml: "token: second-token"))
                    guard await lines.first(where: { $0.hasPrefix("The kubeconfig changed") }) != nil else { throw KubeSimTestError("not followed: \(lines.all)") }
                    // Its relay leased again with the new credentials: the first requests may
                    // come while it starts.
                    var after = false
                    var tries = 0
                    while !after, tries < 30 {
                        after = try await get()
                        tries += 1
                        if !after { try await Task.sleep(for: .milliseconds(500)) }
                    }
                    // The old relay, which the revoked token can no longer delete, is deleted
                    // with the new one: one relay pod is left, the one in use.
                    try await harness.sim.waitUntil { $0.relayPods().filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }.count == 1 }
                    return (before, after)
                }
                #expect(run.value.0, "\(run.lines)")
                #expect(run.value.1, "a new connection after the rotation went through: \(run.lines)")
            }
        }
    }
}
