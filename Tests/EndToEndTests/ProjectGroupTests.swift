import ControlAPI
import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// `kfwd start --project`: a repository's kfwd.yaml handed to the daemon as a group named after
/// the repository, saved again on each start: new forwards start, changed ones restart, the ones
/// the file dropped stop and go.
@Suite struct ProjectGroupTests {
    @Test func theDaemonRunsTheRepositorysForwardsAsAGroup() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await StoreCommandTests.withHome { home in
                let root = harness.directory.appendingPathComponent("shop-repo")
                try FileManager.default.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
                let file = root.appendingPathComponent("kfwd.yaml")
                let header = "defaults: {kubeconfig: \(harness.kubeconfigPath)}\nforwards:\n"
                try Data((header + "- {alias: web, target: svc/web, ports: [\":80\"]}\n- {alias: api, target: svc/web, ports: [\":http\"]}\n").utf8).write(to: file)
                let kfwd = { @Sendable (arguments: [String]) in
                    try await runCommand("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", root.path, kfwdPath] + arguments, environment: ["KFWD_HOME": home])
                }
                // A forward saved outside the group under one of its aliases is not replaced.
                #expect(try await kfwd(["add", "api", "svc/other", "80"]).succeeded)
                let clash = try await kfwd(["start", "--project"])
                #expect(clash.status == .exited(1) && clash.stderr.contains("a forward named 'api' is saved outside group shop-repo"), "\(clash.stderr)")
                #expect(try await kfwd(["rm", "api"]).succeeded)

                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { daemon in
                    guard await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                    let first = try await kfwd(["start", "--project"])
                    #expect(first.succeeded && first.stdout.contains("Group shop-repo saved from \(file.path): added web, api"), "\(first.stdout) \(first.stderr)")
                    _ = try await DaemonTests.status(home) { report in report.forwards.filter { $0.status == "running" }.count == 2 }

                    try Data((header + "- {alias: web, target: svc/web, ports: [\":http\"]}\n- {alias: new, target: deploy/web, ports: [\":8080\"]}\n").utf8).write(to: file)
                    let second = try await kfwd(["start", "--project"])
                    #expect(second.succeeded, "\(second.stderr)")
                    #expect(second.stdout.contains("Stopped api") && second.stdout.contains(": added new; changed web; removed api"), "\(second.stdout)")
                    #expect(second.stdout.contains("Started new") && second.stdout.contains("Restarted web"), "\(second.stdout)")
                    let listed = try await kfwd(["list", "--group", "shop-repo", "-o", "json"])
                    let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
                    #expect(rows.map { $0["alias"] as? String } == ["web", "new"] && rows.allSatisfy { $0["group"] as? String == "shop-repo" }, "\(listed.stdout)")
                    _ = try await DaemonTests.status(home) { report in
                        Set(report.forwards.filter { $0.status == "running" }.map(\.alias)) == ["web", "new"]
                    }
                    #expect(try await kfwd(["stop", "--project"]).succeeded)
                    _ = try await DaemonTests.status(home) { report in report.forwards.allSatisfy { $0.status == "stopped" } }
                }
            }
        }
    }
}
