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
}
