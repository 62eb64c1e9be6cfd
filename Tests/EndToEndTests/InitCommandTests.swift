import ConfigStore
import Foundation
import Testing

/// `kfwd init` writes a kfwd.yaml that `kfwd up` reads: from the saved forwards, or from a
/// namespace's Services.
@Suite struct InitCommandTests {
    @Test func initWritesAProjectFileFromSavedForwardsOrServices() async throws {
        let manifest = webManifest + "\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n" + shopEchoManifest
        try await SimHarness.run(manifest: manifest) { harness in
            try await StoreCommandTests.withHome { home in
                let folder = harness.directory.appendingPathComponent("repo").path
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let kfwd = { @Sendable (arguments: [String]) in
                    try await runCommand("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", folder, kfwdPath] + arguments, environment: ["KFWD_HOME": home])
                }
                #expect(try await kfwd(["add", "web", "svc/web", "8080:http", "-n", "default", "--tag", "front", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                #expect(try await kfwd(["add", "echo", "svc/echo", ":7000", "-n", "shop", "--address", "auto", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                let written = try await kfwd(["init"])
                #expect(written.succeeded && written.stdout.contains("with 2 forwards (from the saved forwards)"), "\(written.stdout) \(written.stderr)")
                let path = folder + "/kfwd.yaml"
                let fromSaved = try ProjectFile.load(path)
                #expect(fromSaved.forwards.map(\.alias) == ["web", "echo"])
                #expect(fromSaved.forwards[0].config.ports == ["8080:http"] && fromSaved.forwards[0].config.tags == ["front"])
                #expect(fromSaved.forwards[1].config.address == "auto" && fromSaved.forwards[1].config.namespace == "shop")
                #expect(fromSaved.forwards.allSatisfy { $0.config.kubeconfig == nil }, "a shared file names no machine's kubeconfig")

                let again = try await kfwd(["init"])
                #expect(again.status == .exited(1) && again.stderr.contains("already exists"), "\(again.stderr)")
                let fromServices = try await kfwd(["init", "-n", "shop", "--force", "--kubeconfig", harness.kubeconfigPath])
                #expect(fromServices.succeeded, "\(fromServices.stderr)")
                let services = try ProjectFile.load(path)
                #expect(services.forwards.map(\.alias) == ["echo"] && services.forwards[0].config.ports == ["7000"] && services.forwards[0].config.target == "svc/echo")
            }
        }
    }
}
