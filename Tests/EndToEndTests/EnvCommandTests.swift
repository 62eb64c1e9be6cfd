import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// `kfwd env --write FILE` keeps a dotenv file in step with the daemon's forwards.
@Suite struct EnvCommandTests {
    @Test func theFileFollowsAStartAStopAndARestart() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await StoreCommandTests.withHome { home in
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                #expect(try await kfwd(["add", "web", "svc/web", ":80", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                #expect(try await kfwd(["add", "orders-db", "deploy/web", ":8080", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                let file = harness.directory.appendingPathComponent("forwards.env").path
                let read = { @Sendable () -> [String: String] in
                    let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                    return Dictionary(text.split(separator: "\n").compactMap { line in
                        line.firstIndex(of: "=").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) }
                    }, uniquingKeysWith: { a, _ in a })
                }
                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { daemon in
                    guard await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                    #expect(try await kfwd(["start", "web"]).succeeded)
                    let printed = try await kfwd(["env"]).stdout
                    #expect(printed.hasPrefix("WEB_HOST=127.0.0.1\nWEB_PORT="), "\(printed)")
                    _ = try await runLongLived(.path(FilePath(kfwdPath)), ["env", "--write", file], environment: ["KFWD_HOME": home]) { follower in
                        // The follower says each rewrite: the file as it is after the nth.
                        let after = { @Sendable (n: Int) async throws -> [String: String] in
                            guard await follower.nth(n, where: { $0.hasPrefix("Wrote \(file)") }) != nil else {
                                throw KubeSimTestError("no rewrite \(n): \(follower.all)")
                            }
                            return read()
                        }
                        _ = try await after(1)
                        let first = read()
                        #expect(first["WEB_URL"] == "http://127.0.0.1:\(first["WEB_PORT"] ?? "?")", "\(first)")
                        let webPort = first["WEB_PORT"]
                        #expect(try await runCommand("curl", ["-s", "--max-time", "10", first["WEB_URL"] ?? ""]).stdout.hasPrefix("pod: web-"))
                        #expect(try await kfwd(["start", "orders-db"]).succeeded)
                        let started = try await after(2)
                        #expect(started["ORDERS_DB_PORT"] != nil, "\(started)")
                        #expect(started["WEB_PORT"] == webPort)
                        #expect(try await kfwd(["stop", "web"]).succeeded)
                        let stopped = try await after(3)
                        #expect(stopped["WEB_PORT"] == nil, "\(stopped)")
                        #expect(stopped["ORDERS_DB_PORT"] == started["ORDERS_DB_PORT"])
                        // Restarted, a forward on a free port gets another one: the file moves with it.
                        #expect(try await kfwd(["restart", "orders-db"]).succeeded)
                        // (A restart may pass through a rewrite without the forward, then one with it.)
                        var restarted = try await after(4)
                        if restarted["ORDERS_DB_PORT"] == nil { restarted = try await after(5) }
                        #expect(restarted["ORDERS_DB_PORT"] != nil && restarted["ORDERS_DB_PORT"] != started["ORDERS_DB_PORT"], "\(restarted)")
                    }
                }
            }
        }
    }

    /// In a repository, what its `kfwd up` runs counts too: printed, chosen by tag and group,
    /// and followed by `--write` as the project file is edited; gone when kfwd up ends.
    @Test func aRepositorysKfwdUpCountsInItAndIsFollowed() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await StoreCommandTests.withHome { home in
                let root = harness.directory.appendingPathComponent("repo")
                try FileManager.default.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
                let project = root.appendingPathComponent("kfwd.yaml")
                let header = "defaults: {namespace: default, kubeconfig: \(harness.kubeconfigPath)}\nforwards:\n"
                let web = "- {alias: web, target: svc/web, ports: [\":80\"], tags: [front]}\n"
                try Data((header + web + "- {alias: api, target: svc/web, ports: [\":80\"]}\n").utf8).write(to: project)
                let environment = ["KFWD_HOME": home]
                let env = { @Sendable (arguments: [String], directory: String) in
                    try await runCommand(kfwdPath, ["env"] + arguments, environment: environment, workingDirectory: directory)
                }
                let file = root.appendingPathComponent(".env").path
                let read = { @Sendable () -> String in (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }
                let run = try await runLongLived(.path(FilePath(kfwdPath)), ["up"], environment: environment, workingDirectory: root.path) { up in
                    for alias in ["web", "api"] {
                        guard await up.first(where: { $0.hasPrefix("\(alias): Forwarding from 127.0.0.1:") }) != nil else {
                            throw KubeSimTestError("\(alias) did not listen: \(up.all)")
                        }
                    }
                    // Published once both listen (the file is rewritten as each one does).
                    var printed = try await env([], root.path).stdout
                    var asked = 1
                    while asked < 50, !printed.contains("API_PORT=") {
                        printed = try await env([], root.path).stdout
                        asked += 1
                    }
                    #expect(printed.contains("WEB_HOST=127.0.0.1\nWEB_PORT=") && printed.contains("API_PORT="), "\(printed)")
                    #expect(try await env(["--tag", "front"], root.path).stdout.hasPrefix("WEB_HOST="), "a project forward's tags count")
                    #expect(!(try await env(["--tag", "front"], root.path).stdout.contains("API_")))
                    #expect(try await env(["--group", "repo"], root.path).stdout.contains("API_PORT="), "the project's group is its folder's name")
                    #expect(try await env(["--group", "other"], root.path).stdout.isEmpty)
                    #expect(try await env([], harness.directory.path).stdout.isEmpty, "outside the repository it does not count")

                    _ = try await runLongLived(.path(FilePath(kfwdPath)), ["env", "--write", file], environment: environment, workingDirectory: root.path) { follower in
                        guard await follower.first(where: { $0.hasPrefix("Wrote \(file)") }) != nil else { throw KubeSimTestError("not written: \(follower.all)") }
                        let first = read()
                        #expect(first.contains("WEB_PORT=") && first.contains("API_PORT="), "\(first)")
                        // api leaves the project file: kfwd up stops it, and the file follows.
                        try Data((header + web).utf8).write(to: project)
                        for n in 2...4 {
                            guard await follower.nth(n, where: { $0.hasPrefix("Wrote \(file)") }) != nil else { throw KubeSimTestError("no rewrite \(n): \(follower.all)") }
                            if !read().contains("API_") { break }
                        }
                        let after = read()
                        #expect(!after.contains("API_") && after.contains("WEB_PORT="), "\(after)")
                        #expect(after.split(separator: "\n").first { $0.hasPrefix("WEB_PORT=") } == first.split(separator: "\n").first { $0.hasPrefix("WEB_PORT=") })
                    }
                    return true
                }
                #expect(run.value)
                // kfwd up has ended: nothing of it is left to count.
                #expect(try await env([], root.path).stdout.isEmpty)
                let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: home + "/up")) ?? []
                #expect(leftovers.isEmpty, "\(leftovers)")
            }
        }
    }
}
