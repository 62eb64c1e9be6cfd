import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// kill -9 of the daemon at random moments while forwards start and stop: the store is never
/// corrupt, and the next daemon tells the truth about what runs.
@Suite(.timeLimit(.minutes(10)))
struct DaemonCrashTests {
    /// `PRAGMA integrity_check` of the store, as SQLite itself reads it.
    static func integrity(_ home: String) async throws -> String {
        let store = URL(fileURLWithPath: home).appendingPathComponent("kfwd.sqlite").path
        let script = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('pragma integrity_check').fetchone()[0])"
        return try await runCommand("python3", ["-c", script, store]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aHundredKillsNeverCorruptTheStoreAndTheNextDaemonTellsTheTruth() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            try await StoreCommandTests.withHome { home in
                let aliases = ["web-a", "web-b", "web-c"]
                for alias in aliases {
                    let added = try await StoreCommandTests.kfwd(home, ["add", alias, "svc/web", ":80", "--kubeconfig", harness.kubeconfigPath])
                    #expect(added.succeeded, "\(added.stderr)")
                }
                for round in 0..<100 {
                    _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { daemon in
                        guard let ready = await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }),
                            let pid = ready.split(separator: "pid ").last.flatMap({ pid_t($0.prefix { $0.isNumber }) })
                        else { throw KubeSimTestError("round \(round): no daemon: \(daemon.all)") }
                        // Starts and stops under way when the kill comes.
                        let command = round % 3 == 2 ? ["stop", "--all"] : ["start", aliases[round % aliases.count]]
                        async let asked = StoreCommandTests.kfwd(home, command)
                        try await Task.sleep(for: .milliseconds(Int.random(in: 0..<400)))
                        kill(pid, SIGKILL)
                        _ = try? await asked
                    }
                    // A start that found the daemon gone started one of its own: killed too.
                    if let spawned = try? Self.daemonPID(try await StoreCommandTests.kfwd(home, ["status", "-o", "json"]).stdout) {
                        kill(spawned, SIGKILL)
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    let check = try await Self.integrity(home)
                    #expect(check == "ok", "round \(round): the store after kill -9: \(check)")
                    if check != "ok" { return }
                }
                // The next daemon: nothing said to run, then everything runs when asked.
                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { daemon in
                    guard await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                    let report = try await StoreCommandTests.kfwd(home, ["status", "-o", "json"])
                    let states = try Self.states(report.stdout)
                    #expect(states.values.allSatisfy { $0 == "stopped" }, "a dead daemon's forwards are not running: \(states)")
                    #expect(try await StoreCommandTests.kfwd(home, ["start", "--all"]).succeeded)
                    var running: [String: String] = [:]
                    for _ in 0..<100 {
                        running = try Self.states(try await StoreCommandTests.kfwd(home, ["status", "-o", "json"]).stdout)
                        if running.values.allSatisfy({ $0 == "running" }) { break }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    #expect(running == Dictionary(uniqueKeysWithValues: aliases.map { ($0, "running") }), "\(running)")
                }
                print("chaos: kill -9 of the daemon at 100 random moments while forwards start and stop: store intact every time")
            }
        }
    }

    /// The pid of the daemon a status report names as running.
    static func daemonPID(_ json: String) throws -> pid_t? {
        struct Report: Decodable {
            struct Daemon: Decodable {
                let pid: Int32?
                let running: Bool
            }
            let daemon: Daemon
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(json.utf8))
        return report.daemon.running ? report.daemon.pid : nil
    }

    static func states(_ json: String) throws -> [String: String] {
        struct Report: Decodable {
            struct Forward: Decodable {
                let alias: String
                let status: String
            }
            let forwards: [Forward]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(json.utf8))
        return Dictionary(uniqueKeysWithValues: report.forwards.map { ($0.alias, $0.status) })
    }
}
