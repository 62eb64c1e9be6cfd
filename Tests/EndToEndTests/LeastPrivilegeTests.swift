import ControlAPI
import Foundation
import KubeSim
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// kfwd with a developer's restricted rights, on KubeSim with RBAC: with exactly what kubectl
/// port-forward needs it serves and follows pods by polling; with list but no watch it polls;
/// with watch it watches; without pods/portforward it says so, naming the right.
@Suite struct LeastPrivilegeTests {
    /// kubectl's rights only: svc/web serves, and a forced deletion of every pod (twice) is
    /// followed within the poll interval. Polling every 3 s, the forward can send a connection
    /// to a deleted pod until the next poll: the refused stream is tried on the other pod, then
    /// held until a new pod is listed, so at most the connections of those seconds whose
    /// candidates all failed are lost: the test allows one per deletion, as watching does.
    @Test func kubectlsRightsServeAServiceAndFollowForcedDeletions() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let dev = try await RestrictedAccount.create(harness, rules: RestrictedAccount.kubectlRules)
            let run = try await runKfwd(["forward", "svc/web", ":80", "--kubeconfig", dev.kubeconfigPath]) { lines in
                let port = try await forwardedPort(lines)
                let loop = RequestLoop(port: port)
                return try await loop.running {
                    try await loop.waitUntil { $0.filter(\.ok).count >= 3 }
                    for _ in 0..<2 {
                        for pod in harness.sim.readyPods("app=web") {
                            try harness.sim.delete("pods", name: pod[path: ["metadata", "name"]]!.stringValue!, gracePeriod: 0)
                        }
                        let done = ContinuousClock.now
                        try await loop.waitUntil { $0.filter { $0.start > done && $0.ok }.count >= 5 }
                    }
                }
            }
            let (results, _) = run.value
            let failed = results.filter { !$0.ok }
            #expect(failed.count <= 2, "\(failed.count) of \(results.count) failed: \(failed) \(run.lines)")
            #expect(Set(results.compactMap(\.pod)).count >= 4, "the forward moved to the new pods: \(Set(results.compactMap(\.pod)))")
            #expect(run.lines.contains { $0.hasPrefix("Following svc/web by polling every 3 s") }, "\(run.lines)")
            // Nothing it may not do was asked: no watch, no EndpointSlice.
            let asked = harness.sim.requests.filter { $0.user == "system:serviceaccount:default:dev" }
            #expect(!asked.contains { $0.isWatch || $0.path.contains("endpointslices") }, "\(asked.map(\.path))")
        }
    }

    /// A relay forward needs to create and delete its pod: without those rights it says so
    /// before making anything, and deletes nothing it did not make.
    @Test func aRelayForwardWithoutPodCreateSaysSoAndDeletesNothing() async throws {
        try await SimHarness.run(manifest: webWithUDPServiceManifest) { harness in
            let dev = try await RestrictedAccount.create(harness, rules: RestrictedAccount.kubectlRules)
            let run = try await runKfwd(["forward", "svc/dns", ":53", "--udp", "--kubeconfig", dev.kubeconfigPath]) { lines in
                await lines.untilEnd()
            }
            #expect(run.status == .exited(1), "\(run.lines)")
            #expect(
                run.lines.contains("error: kfwd cannot run its relay pod: create on pods and delete on pods are not allowed in namespace default"),
                "\(run.lines)")
            let writes = harness.sim.requests.filter { request in
                request.user == "system:serviceaccount:default:dev" && (request.method == "DELETE" || (request.method == "POST" && request.path.hasSuffix("/pods")))
            }
            #expect(writes.isEmpty, "\(writes.map { "\($0.method) \($0.path)" })")
            #expect(!run.lines.contains { $0.contains("cannot delete") }, "\(run.lines)")
        }
    }

    /// One daemon, three accounts: the status (JSON) says how each forward follows its pods, or
    /// which right it lacks.
    @Test func theStatusSaysTheModeEachAccountsRightsAllow() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let listing = try await RestrictedAccount.create(harness, rules: RestrictedAccount.kubectlRules + """

                - {apiGroups: [""], resources: [services], verbs: [list]}
                - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list]}
                """, name: "lister")
            let watching = try await RestrictedAccount.create(harness, rules: RestrictedAccount.kubectlRules + """

                - {apiGroups: [""], resources: [services, pods], verbs: [list, watch]}
                - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
                """, name: "watcher")
            let blocked = try await RestrictedAccount.create(harness, rules: """
                - {apiGroups: [""], resources: [services, pods], verbs: [get, list, watch]}
                - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
                """, name: "blocked")
            try await StoreCommandTests.withHome { home in
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                for (alias, account) in [("lister", listing), ("watcher", watching), ("blocked", blocked)] {
                    #expect(try await kfwd(["add", alias, "svc/web", ":80", "--kubeconfig", account.kubeconfigPath]).succeeded)
                }
                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { daemon in
                    guard await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                    _ = try await kfwd(["start", "--all"])
                    var report: StatusReport?
                    for _ in 0..<200 {
                        let answer = try await kfwd(["status", "-o", "json"])
                        report = try? StatusReport.decoder.decode(StatusReport.self, from: Data(answer.stdout.utf8))
                        let forwards = report?.forwards ?? []
                        let settled = forwards.contains { $0.alias == "lister" && $0.status == "running" }
                            && forwards.contains { $0.alias == "watcher" && $0.status == "running" }
                            && forwards.contains { $0.alias == "blocked" && $0.code == "forbidden" }
                        if settled { break }
                    }
                    let forwards = Dictionary((report?.forwards ?? []).map { ($0.alias, $0) }, uniquingKeysWith: { a, _ in a })
                    #expect(
                        forwards["lister"]?.following
                            == "following svc/web by polling every 3 s: watch on services and watch on endpointslices.discovery.k8s.io are not allowed in namespace default",
                        "\(String(describing: forwards["lister"]))")
                    #expect(forwards["lister"]?.pods.count == 2)
                    #expect(forwards["watcher"]?.status == "running" && forwards["watcher"]?.following == nil, "\(String(describing: forwards["watcher"]))")
                    #expect(forwards["blocked"]?.code == "forbidden", "\(String(describing: forwards["blocked"]))")
                    #expect(forwards["blocked"]?.reason == "svc/web cannot be forwarded to: create on pods/portforward is not allowed in namespace default")
                    #expect(forwards["blocked"]?.fix?.contains("resources: [pods/portforward], verbs: [create]") == true)
                }
            }
        }
    }
}
