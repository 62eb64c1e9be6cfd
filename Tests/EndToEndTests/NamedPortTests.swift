import Foundation
import KubeSim
import Testing

/// `kfwd forward TARGET 8080:http`: a remote port by name, as kubectl takes it. For a Service the
/// name is its port's; for pods and Deployments a container port's. kubectl beside it, on the
/// same KubeSim, is the reference.
@Suite struct NamedPortTests {
    private static func podOf(_ port: Int) async throws -> String {
        let answer = try await runCommand("curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/"])
        return answer.stdout.split(separator: "\n").first.map { String($0.dropFirst("pod: ".count)) } ?? "failed: \(answer.stderr)"
    }

    @Test func aNamedRemotePortReachesThePodsAsKubectlsDoes() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let pods = Set(harness.sim.readyPods("app=web").compactMap { $0[path: ["metadata", "name"]]?.stringValue })
            let one = pods.sorted()[0]
            for target in ["svc/web", "deploy/web", "pod/\(one)"] {
                let run = try await runKfwd(["forward", target, ":http", "--kubeconfig", harness.kubeconfigPath]) { lines in
                    let port = try await forwardedPort(lines)
                    // Once its pods are known: what a named port resolves to is the question here.
                    _ = await lines.first { $0.hasPrefix("Ready:") }
                    return (try await Self.podOf(port), try await Self.podOf(port))
                }
                #expect(pods.contains(run.value.0) && pods.contains(run.value.1), "\(target): \(run.value) \(run.lines)")
                if target.hasPrefix("pod/") { #expect(run.value.0 == one) }
                #expect(run.status.isSuccess, "\(target): \(run.lines)")
            }
            let environment = ["KUBECONFIG": harness.kubeconfigPath, "HOME": harness.directory.path]
            let kubectl = try await runLongLived(.name("kubectl"), ["port-forward", "svc/web", ":http"], environment: environment) { lines in
                try await Self.podOf(try await forwardedPort(lines))
            }
            #expect(pods.contains(kubectl.value), "\(kubectl.lines)")
        }
    }

    /// A name the pod does not have: `pod/` stops at once, as kubectl does; a Service keeps
    /// its port bound and says why connections wait.
    @Test func aMissingPortNameIsSaid() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let one = harness.sim.readyPods("app=web").compactMap { $0[path: ["metadata", "name"]]?.stringValue }.sorted()[0]
            let pod = try await runKfwd(["forward", "pod/\(one)", "8080:grpc", "--kubeconfig", harness.kubeconfigPath]) { lines in
                await lines.untilEnd()
            }
            #expect(pod.status == .exited(1))
            #expect(pod.lines.contains { $0.contains("has no container port named grpc (it has http)") }, "\(pod.lines)")
            #expect(!harness.sim.requests.contains { $0.path.hasSuffix("/portforward") })

            let service = try await runKfwd(["forward", "svc/web", ":grpc", "--kubeconfig", harness.kubeconfigPath]) { lines in
                _ = try await forwardedPort(lines)
                return await lines.first { $0.hasPrefix("Waiting") && $0.contains("grpc") }
            }
            #expect(service.value?.contains("service web has no port named grpc (it has 80 named http)") == true, "\(service.lines)")
        }
    }
}
