import ControlAPI
import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Forwards carry tags: `kfwd list --tag`, and `kfwd start`/`stop`/`restart --tag` act on the
/// saved forwards that carry one of them.
@Suite struct TagTests {
    @Test func tagsSelectWhatListAndStartActOn() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await StoreCommandTests.withHome { home in
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                let kubeconfig = ["--kubeconfig", harness.kubeconfigPath]
                #expect(try await kfwd(["add", "web", "svc/web", ":80", "--tag", "front"] + kubeconfig).succeeded)
                #expect(try await kfwd(["add", "db", "deploy/web", ":8080", "--tag", "data", "--tag", "team-a"] + kubeconfig).succeeded)
                #expect(try await kfwd(["add", "cache", "svc/web", ":80", "--tag", "data"] + kubeconfig).succeeded)
                let listed = try await kfwd(["list", "--tag", "data", "-o", "json"])
                let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
                #expect(rows.map { $0["alias"] as? String } == ["db", "cache"], "\(listed.stdout)")
                #expect(rows.first?["tags"] as? [String] == ["data", "team-a"])

                // A tag nobody carries: said, and no daemon left behind.
                let unknown = try await kfwd(["start", "--tag", "nosuch"])
                #expect(unknown.status == .exited(1) && unknown.stderr.contains("no saved forward has the tag 'nosuch' (tags in use: data, front, team-a)"), "\(unknown.stderr)")
                #expect(try await DaemonTests.status(home).daemon.running == false)
                #expect(try await kfwd(["start", "web", "--tag", "data"]).status != .exited(0), "names and a tag exclude each other")

                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { daemon in
                    guard await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                    let started = try await kfwd(["start", "--tag", "data"])
                    #expect(started.succeeded, "\(started.stderr)")
                    let status = try await DaemonTests.status(home) { report in
                        Set(report.forwards.filter { $0.status == "running" }.map(\.alias)) == ["db", "cache"]
                    }
                    #expect(status.forwards.first { $0.alias == "web" }?.status ?? "stopped" == "stopped")
                    #expect(try await kfwd(["stop", "--tag", "team-a"]).succeeded)
                    _ = try await DaemonTests.status(home) { report in report.forwards.first { $0.alias == "db" }?.status == "stopped" }
                }
            }
        }
    }
}
