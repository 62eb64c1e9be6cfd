import Foundation
import KubeSim
import Testing

/// kubectl 1.32, a client nobody here wrote, against the kubeconfig KubeSim writes.
@Suite struct KubectlJudgesKubeSimTests {
    /// kubectl with its own HOME, so that its discovery cache is the test's alone.
    private func environment(_ harness: SimHarness, kubeconfig: String? = nil) -> [String: String] {
        ["KUBECONFIG": kubeconfig ?? harness.kubeconfigPath, "HOME": harness.directory.path]
    }

    private func kubectl(_ harness: SimHarness, _ arguments: [String]) async throws -> CommandResult {
        try await runCommand("kubectl", arguments, environment: self.environment(harness))
    }

    @Test func getPodsServicesAndEndpointSlicesReadsLikeARealCluster() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { sim in
                sim.object("deployments", name: "web")?[path: ["status", "readyReplicas"]] == 2
            }
            let result = try await self.kubectl(harness, ["get", "pods,svc,endpointslices"])
            #expect(result.succeeded, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(lines.first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
            let pods = lines.filter { $0.first?.hasPrefix("pod/web-") == true }
            #expect(pods.count == 2)
            #expect(pods.allSatisfy { $0[1] == "1/1" && $0[2] == "Running" && $0[3] == "0" })
            let service = try #require(lines.first { $0.first == "service/web" })
            #expect(service[1] == "ClusterIP")
            #expect(service[4] == "80/TCP")
            #expect(lines.contains { $0.first == "service/kubernetes" && $0[4] == "443/TCP" })
            let slice = try #require(lines.first { $0.first?.hasPrefix("endpointslice.discovery.k8s.io/web-") == true })
            #expect(slice[1] == "IPv4")
            #expect(slice[2] == "8080")
            #expect(slice[3].split(separator: ",").count == 2)
        }
    }

    @Test func forcedDeletionOfAllPodsIsRepairedByTheDeployment() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let before = Set(harness.sim.readyPods("app=web").compactMap { $0[path: ["metadata", "name"]]?.stringValue })
            let result = try await self.kubectl(harness, ["delete", "pods", "--all", "--force", "--grace-period=0"])
            #expect(result.succeeded, "\(result.stderr)")
            for name in before { #expect(result.stdout.contains("pod \"\(name)\" force deleted")) }
            try await harness.sim.waitUntil { sim in
                let ready = Set(sim.readyPods("app=web").compactMap { $0[path: ["metadata", "name"]]?.stringValue })
                return ready.count == 2 && ready.isDisjoint(with: before)
            }
            let listed = try await self.kubectl(harness, ["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}"])
            #expect(listed.stdout == "Running Running")
        }
    }

    @Test func watchSeesAddedModifiedAndDeletedDuringChurn() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let victim = try #require(harness.sim.readyPods("app=web").first?[path: ["metadata", "name"]]?.stringValue)
            var kinds = Set<String>()
            var churned = false
            _ = try await streamLines(
                "kubectl", ["get", "pods", "-w", "--output-watch-events", "--no-headers"],
                environment: self.environment(harness)
            ) { line in
                let columns = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                guard let kind = columns.first else { return true }
                kinds.insert(kind)
                if !churned && columns.count > 1 && columns[1] == victim {
                    churned = true
                    try harness.sim.delete("pods", name: victim, gracePeriod: 1)
                }
                return !kinds.isSuperset(of: ["ADDED", "MODIFIED", "DELETED"])
            }
            let seen = kinds
            #expect(seen.isSuperset(of: ["ADDED", "MODIFIED", "DELETED"]))
        }
    }

    @Test func scaleAndRolloutRestart() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let scaled = try await self.kubectl(harness, ["scale", "deployment", "web", "--replicas=3"])
            #expect(scaled.succeeded, "\(scaled.stderr)")
            #expect(scaled.stdout.contains("deployment.apps/web scaled"))
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 3 }

            let hashes = Set(harness.sim.readyPods("app=web").compactMap { $0[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue })
            let restarted = try await self.kubectl(harness, ["rollout", "restart", "deployment/web"])
            #expect(restarted.succeeded, "\(restarted.stderr)")
            #expect(restarted.stdout.contains("deployment.apps/web restarted"))
            let status = try await self.kubectl(harness, ["rollout", "status", "deployment/web", "--timeout=30s"])
            #expect(status.succeeded, "\(status.stderr)")
            #expect(status.stdout.contains("successfully rolled out"))
            try await harness.sim.waitUntil { sim in
                let pods = (try? sim.objects("pods", labelSelector: "app=web")) ?? []
                return pods.count == 3 && sim.readyPods("app=web").count == 3
            }
            let newHashes = Set(harness.sim.readyPods("app=web").compactMap { $0[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue })
            #expect(newHashes.count == 1)
            #expect(newHashes.isDisjoint(with: hashes))
        }
    }

    @Test func createFromAManifestFile() async throws {
        try await SimHarness.run { harness in
            let manifest = try harness.write("shop.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata: {name: shop}
                ---
                \(shopEchoManifest)
                """)
            let result = try await self.kubectl(harness, ["create", "-f", manifest])
            #expect(result.succeeded, "\(result.stderr)")
            #expect(result.stdout.contains("namespace/shop created"))
            #expect(result.stdout.contains("pod/echo created"))
            #expect(result.stdout.contains("service/echo created"))
            try await harness.sim.waitUntil { isReady($0.object("pods", namespace: "shop", name: "echo")) }
            let again = try await self.kubectl(harness, ["create", "-f", manifest])
            #expect(!again.succeeded)
            #expect(again.stderr.contains("AlreadyExists") || again.stderr.contains("already exists"))
            let wait = try await self.kubectl(harness, ["wait", "--for=condition=Ready", "pod/echo", "-n", "shop", "--timeout=10s"])
            #expect(wait.succeeded, "\(wait.stderr)")
        }
    }

    @Test func unauthenticatedKubectlGetsUnauthorized() async throws {
        try await SimHarness.run { harness in
            let path = try harness.write("bad", harness.kubeconfig(user: "token: wrong"))
            let result = try await runCommand("kubectl", ["get", "pods"], environment: self.environment(harness, kubeconfig: path))
            #expect(!result.succeeded)
            // What kubectl 1.32 prints for a 401 from a real apiserver.
            #expect(result.stderr.contains("You must be logged in to the server"))
        }
    }
}
