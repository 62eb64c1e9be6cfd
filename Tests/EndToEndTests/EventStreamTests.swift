import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The daemon's live event stream, read as a user's script or the terminal UI reads it
/// (`kfwd status --watch -o json`), and failures that surface at once with what to do.
@Suite struct EventStreamTests {
    /// One line of the stream, with the fields a reader relies on.
    struct Record: Decodable, Sendable {
        let forward: String
        let type: String
        let state: String
        let reason: String?
        let code: String?
        let pods: [String]
        let time: Date
        let message: String?
        let pod: String?
        /// `health` lines.
        let healthy: Bool?
        let failingPods: [String: String]?
        /// `network` lines.
        let network: String?
        let outage: Double?

        enum CodingKeys: String, CodingKey {
            case forward, type, state, reason, code, pods, time, message, pod, healthy, network
            case failingPods = "failing_pods"
            case outage = "outage_seconds"
        }
    }

    static func records(
        _ lines: OutputLines, timeout: Duration = .seconds(30), where predicate: @escaping @Sendable (Record) -> Bool
    ) async -> Record? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let line = await lines.first(timeout: timeout) { line in
            (try? decoder.decode(Record.self, from: Data(line.utf8))).map(predicate) ?? false
        }
        return line.flatMap { try? decoder.decode(Record.self, from: Data($0.utf8)) }
    }

    @Test func watchJSONFollowsStatesReasonsPodsAndRestarts() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            try await StoreCommandTests.withHome { home in
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                #expect(try await kfwd(["add", "web", "svc/web", ":80", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                #expect(try await kfwd(["add", "ghost", "svc/webb", ":80", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                // No daemon: nothing to watch, said in one line, exit non-zero.
                let early = try await kfwd(["status", "--watch"])
                #expect(early.status == .exited(1))
                #expect(early.stderr.hasPrefix("error: no kfwd daemon runs") && early.stderr.split(separator: "\n").count == 1, "\(early.stderr)")

                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { daemon in
                    guard await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                    #expect(try await kfwd(["start", "web"]).succeeded)
                    _ = try await runLongLived(.path(FilePath(kfwdPath)), ["status", "--watch", "-o", "json"], environment: ["KFWD_HOME": home]) { lines in
                        // The first lines say where each started forward is.
                        let snapshot = await Self.records(lines) { $0.forward == "web" && $0.type == "snapshot" }
                        #expect(snapshot != nil, "\(lines.all)")
                        let running = try #require(await Self.records(lines) { $0.forward == "web" && $0.state == "running" && $0.pods.count == 2 }, "\(lines.all)")

                        // A missing Service: waiting, with the reason and its code.
                        #expect(try await kfwd(["start", "ghost"]).succeeded)
                        let ghost = await Self.records(lines) { $0.forward == "ghost" && $0.state == "waiting" && $0.code == "service_missing" }
                        #expect(ghost?.reason == "service webb does not exist in namespace default", "\(lines.all)")
                        let status = try await kfwd(["status", "-o", "json"]).stdout
                        #expect(status.contains("\"code\" : \"service_missing\""), "\(status)")

                        // Every pod force-deleted: the stream names the new ones.
                        for pod in harness.sim.readyPods("app=web") {
                            try harness.sim.delete("pods", name: pod[path: ["metadata", "name"]]!.stringValue!, gracePeriod: 0)
                        }
                        let moved = await Self.records(lines) {
                            $0.forward == "web" && $0.state == "running" && $0.pods.count == 2 && Set($0.pods).isDisjoint(with: running.pods)
                        }
                        #expect(moved != nil, "\(lines.all)")

                        // A restart is a command, then stopping, then a start and running again.
                        let runningAgain = { @Sendable (line: String) in line.contains("\"forward\":\"web\"") && line.contains("\"state\":\"running\"") }
                        let runningBefore = lines.all.filter(runningAgain).count
                        let restarted = try await kfwd(["restart", "web"])
                        #expect(restarted.stdout == "Restarted web\n", "\(restarted.stdout) \(restarted.stderr)")
                        #expect(await Self.records(lines) { $0.forward == "web" && $0.type == "command" && $0.message == "restart" } != nil)
                        #expect(await Self.records(lines) { $0.forward == "web" && $0.state == "stopping" } != nil)
                        #expect(await Self.records(lines) { $0.forward == "web" && $0.type == "started" } != nil)
                        #expect(await lines.nth(runningBefore + 1, where: runningAgain) != nil, "\(lines.all)")
                        let after = try await DaemonTests.status(home) { $0.forwards.first { $0.alias == "web" }?.status == "running" }
                        #expect(try await DaemonTests.answers(after.forwards.first { $0.alias == "web" }?.listening.first))
                    }
                }
            }
        }
    }

    /// kubectl says at once that it cannot get credentials; so does kfwd: the forward's state
    /// names the missing exec plugin within a second, and a connection is refused at once
    /// instead of being held for the pod wait.
    @Test func aMissingExecPluginIsSaidAtOnce() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            let user = "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: kfwd-no-such-plugin\n  interactiveMode: Never"
            let path = try harness.write("exec-config", harness.kubeconfig(user: user))
            _ = try await runKfwd(["forward", "svc/web", ":80", "--kubeconfig", path]) { lines in
                let port = try await forwardedPort(lines)
                let said = await lines.first(timeout: .seconds(10)) { $0.hasPrefix("error: cannot follow the target") }
                #expect(said?.contains("kfwd-no-such-plugin") == true, "\(lines.all)")
                let start = ContinuousClock.now
                let curl = try await runCommand("curl", ["-s", "--max-time", "20", "http://127.0.0.1:\(port)/"])
                #expect(!curl.stdout.hasPrefix("pod: "))
                #expect(ContinuousClock.now - start < .seconds(10), "the connection was held, not refused")
                let refused = await lines.first { $0.hasPrefix("error: connection on local port \(port)") }
                #expect(refused?.contains("kfwd-no-such-plugin") == true, "\(lines.all)")
            }
        }
    }
}
