import Foundation
import KubeSim
import Testing

/// The official Python client (`pip install kubernetes`) lists and watches pods on KubeSim.
@Suite struct PythonClientJudgesKubeSimTests {
    @Test func listAndWatchPodsThroughChurn() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("interop/python_client_check.py").path
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let victim = harness.sim.readyPods("app=web").compactMap { $0[path: ["metadata", "name"]]?.stringValue }.sorted()[0]
            let (lines, status) = try await streamLines("python3", [script, harness.kubeconfigPath, "default"]) { line in
                // Once the client is watching (it printed its list), churn the cluster.
                if line.hasPrefix("list ") { try harness.sim.delete("pods", name: victim, gracePeriod: 0) }
                return true
            }
            #expect(status.isSuccess, "python client output: \(lines)")
            #expect(lines.first?.hasPrefix("list ") == true)
            #expect(lines.contains("deleted \(victim)"))
            #expect(lines.contains { $0.hasPrefix("replacement-ready ") })
            #expect(lines.last == "ok")
        }
    }
}
