import Foundation
import KubeSim
import Testing

/// A connection that arrives before the forward's first list (a slow API server) is held, then
/// served once the pods are known: never left hanging.
@Suite struct HeldFirstConnectionTests {
    @Test(arguments: ["svc/web", "deploy/web"])
    func aConnectionBeforeTheFirstListIsServedWhenItArrives(target: String) async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            harness.sim.responseDelay = .seconds(2)
            let run = try await runKfwd(["forward", target, ":http", "--kubeconfig", harness.kubeconfigPath]) { lines in
                let port = try await forwardedPort(lines)
                var answers: [String] = []
                for _ in 0..<3 {
                    let answer = try await runCommand("curl", ["-sS", "--max-time", "20", "http://127.0.0.1:\(port)/"])
                    answers.append(answer.stdout.split(separator: "\n").first.map(String.init) ?? "failed: \(answer.stderr)")
                }
                return answers
            }
            #expect(run.value.allSatisfy { $0.hasPrefix("pod: web-") }, "\(run.value) \(run.lines)")
        }
    }
}
