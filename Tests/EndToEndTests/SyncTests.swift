import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// `kfwd sync` with a local bare git repository as the remote (a file:// URL): a source added,
/// pulled after a new commit, its group replaced, then removed.
@Suite(.enabled(if: isInstalled("git"))) struct SyncTests {
    /// A bare repository in `root` (the remote, `file://` + ``remote``) and a work tree that
    /// commits a kfwd.yaml and pushes it there.
    struct Remote: Sendable {
        let remote: String
        let work: String

        static func make(in root: URL) async throws -> Remote {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let made = Remote(remote: root.appendingPathComponent("remote.git").path, work: root.appendingPathComponent("work").path)
            try await Self.git(["init", "--quiet", "--bare", made.remote])
            try await Self.git(["init", "--quiet", made.work])
            return made
        }

        private static func git(_ arguments: [String]) async throws {
            let result = try await runCommand("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"] + arguments)
            guard result.succeeded else { throw KubeSimTestError("git \(arguments): \(result.stderr)") }
        }

        /// Commits `text` as kfwd.yaml and pushes it to the remote's main.
        func commit(_ text: String) async throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: self.work + "/kfwd.yaml"))
            try await Self.git(["-C", self.work, "add", "kfwd.yaml"])
            try await Self.git(["-C", self.work, "commit", "--quiet", "-m", "forwards"])
            try await Self.git(["-C", self.work, "push", "--quiet", self.remote, "HEAD:main"])
        }
    }

    @Test func aSourceIsClonedPulledAndReplacesItsGroup() async throws {
        try await StoreCommandTests.withHome { home in
            let root = URL(fileURLWithPath: home).deletingLastPathComponent().appendingPathComponent("kfwd-sync-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: root) }
            let repository = try await Remote.make(in: root)
            let remote = repository.remote
            let commit = { @Sendable (text: String) in try await repository.commit(text) }
            try await commit("forwards:\n- {alias: web, target: svc/web, ports: [\"8080:80\"], namespace: shop}\n- {alias: db, target: svc/db, ports: [5432], namespace: shop}\n")
            let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }

            let added = try await kfwd(["sync", "add", "team", "file://\(remote)"])
            #expect(added.succeeded && added.stdout.contains("team: at ") && added.stdout.hasSuffix(": added web, db\n"), "\(added.stdout) \(added.stderr)")
            let aliases = { @Sendable () async throws -> [String] in
                let listed = try await kfwd(["list", "--group", "team", "-o", "json"])
                return (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []).compactMap { $0["alias"] as? String }
            }
            #expect(try await aliases() == ["web", "db"])

            try await commit("forwards:\n- {alias: web, target: svc/web, ports: [\"9090:80\"], namespace: shop}\n- {alias: cache, target: svc/redis, ports: [6379], namespace: shop}\n")
            let pulled = try await kfwd(["sync"])
            #expect(pulled.succeeded && pulled.stdout.hasSuffix(": added cache; changed web; removed db\n"), "\(pulled.stdout) \(pulled.stderr)")
            #expect(try await aliases() == ["web", "cache"])
            #expect(try await kfwd(["sync"]).stdout.hasSuffix(": no change\n"))

            let wrong = try await kfwd(["sync", "add", "other", "file://\(root.path)/nosuch.git"])
            #expect(wrong.status == .exited(1) && wrong.stderr.contains("git clone:"), "\(wrong.stderr)")
            #expect(try await kfwd(["sync", "list"]).stdout.hasPrefix("team  file://"))
            #expect(try await kfwd(["sync", "rm", "team"]).succeeded)
            #expect(try await aliases().isEmpty)
        }
    }
}

extension SyncTests {
    /// The daemon pulls on its interval: a pushed change restarts the changed forward that
    /// runs, stops the one the file dropped, and saves the new one.
    @Test func theDaemonPullsOnItsIntervalAndTheRunningForwardsFollow() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await StoreCommandTests.withHome { home in
                let repository = try await Remote.make(in: harness.directory.appendingPathComponent("sync"))
                let remote = repository.remote
                let header = "defaults: {namespace: default, kubeconfig: \(harness.kubeconfigPath)}\nforwards:\n"
                let commit = { @Sendable (forwards: String) in try await repository.commit(header + forwards) }
                try await commit("- {alias: web, target: svc/web, ports: [\":80\"]}\n- {alias: old, target: svc/web, ports: [\":80\"]}\n")
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                #expect(try await kfwd(["sync", "add", "team", "file://\(remote)"]).succeeded)
                #expect(try await kfwd(["settings", "set", "sync_interval_minutes", "0.01"]).succeeded)
                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { daemon in
                    guard await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                    #expect(try await kfwd(["start", "--group", "team"]).succeeded)
                    let before = try await DaemonTests.status(home) { report in report.forwards.filter { $0.status == "running" }.count == 2 }
                    let webBefore = before.forwards.first { $0.alias == "web" }?.listening ?? []
                    try await commit("- {alias: web, target: svc/web, ports: [\":http\"]}\n- {alias: new, target: svc/web, ports: [\":80\"]}\n")
                    let after = try await DaemonTests.status(home) { report in
                        let web = report.forwards.first { $0.alias == "web" }
                        return web?.status == "running" && web?.listening != webBefore && !report.forwards.contains { $0.alias == "old" }
                    }
                    #expect(after.forwards.first { $0.alias == "new" }?.status == "stopped", "a new forward is saved, not started")
                }
            }
        }
    }
}
