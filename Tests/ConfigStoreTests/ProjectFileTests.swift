import Forwarding
import Foundation
import Testing

@testable import ConfigStore

/// A repository's `kfwd.yaml`: found from any folder of the repository, read with its defaults,
/// refused with the line and column or the forward at fault; and what an edit changes.
@Suite struct ProjectFileTests {
    private func withRepository(_ text: String, name: String = "kfwd.yaml", _ body: (URL) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-project-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("services/api"), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: root.appendingPathComponent(name))
        try body(root)
    }

    @Test func foundFromAnyFolderOfTheRepositoryAndReadWithItsDefaults() throws {
        let text = """
            # the shop's forwards
            defaults: {context: kind-shop, namespace: shop}
            forwards:
            - {alias: web, target: svc/web, ports: ["8080:80"], tags: [front]}
            - alias: db
              target: svc/postgres
              ports: [5432]
              namespace: data
            - {alias: any, selector: app=web, ports: [":http"], context: current}
            """
        try self.withRepository(text, name: ".kfwd.yaml") { root in
            let path = try #require(ProjectFile.find(from: root.appendingPathComponent("services/api").path))
            #expect(path == root.appendingPathComponent(".kfwd.yaml").standardizedFileURL.path)
            let file = try ProjectFile.load(path)
            #expect(file.forwards.map(\.alias) == ["web", "db", "any"])
            #expect(file.forwards[0].config == ForwardConfig(target: "svc/web", ports: ["8080:80"], namespace: "shop", context: "kind-shop", tags: ["front"]))
            #expect(file.forwards[1].config.ports == ["5432"] && file.forwards[1].config.namespace == "data")
            #expect(file.forwards[2].config.context == nil, "current is the kubeconfig's current context")
        }
        // Not above the repository's root.
        try self.withRepository("forwards: []") { root in
            try FileManager.default.removeItem(at: root.appendingPathComponent("kfwd.yaml"))
            #expect(ProjectFile.find(from: root.appendingPathComponent("services").path) == nil)
        }
    }

    @Test(arguments: [
        ("forwards:\n- {alias: web, target: svc/web, ports: [80]\n", "line 3, column 1"),
        ("forwards:\n- {target: svc/web, ports: [80]}\n", "forward 1 has no alias"),
        ("forwards:\n- {alias: a, target: svc/web, ports: [80]}\n- {alias: a, target: svc/api, ports: [81]}\n", "the alias 'a' is given twice"),
        ("forwards:\n- {alias: a, target: rs/web, ports: [80]}\n", "forward 'a': 'rs' in 'rs/web' is not a kind kfwd forwards to"),
        ("forwards:\n- {alias: a, target: svc/web, ports: [80], udp: maybe}\n", "forwards.[0].udp"),
    ])
    func aFileThatCannotBeUsedSaysWhere(text: String, expected: String) throws {
        try self.withRepository(text) { root in
            let path = root.appendingPathComponent("kfwd.yaml").path
            #expect(throws: ProjectFileError.self) { try ProjectFile.load(path) }
            do throws(ProjectFileError) {
                _ = try ProjectFile.load(path)
            } catch {
                #expect(error.message.hasPrefix(path) && error.message.contains(expected), "\(error.message)")
            }
        }
    }

    /// What `kfwd init` writes reads back as the forwards it was written from.
    @Test func theWrittenFileReadsBackAsItsForwards() throws {
        var web = ForwardConfig(target: "svc/web", ports: ["8080:80", ":http"], namespace: "shop", address: "auto", tags: ["front", "team: a"])
        web.hostnames = ["web.shop.local"]
        let forwards = [
            ProjectFile.Forward(alias: "web", config: web),
            ProjectFile.Forward(alias: "dns", config: ForwardConfig(selector: "app=dns,tier in (a, b)", ports: ["5353:53"], namespace: "shop", udp: true, probe: "expect:PING=PONG")),
        ]
        try self.withRepository(ProjectFile.text(for: forwards, source: "a test")) { root in
            let file = try ProjectFile.load(root.appendingPathComponent("kfwd.yaml").path)
            #expect(file.forwards == forwards)
        }
    }

    @Test func anEditStartsStopsAndRestartsOnlyWhatChanged() throws {
        func spec(_ alias: String, _ port: String, _ target: String = "svc/web") throws -> ForwardSpec {
            try ForwardConfig(target: target, ports: [port]).forwardSpec(alias: alias)
        }
        let running = [try spec("web", "8080:80"), try spec("db", "5432"), try spec("api", "9090:80")]
        let wanted = [try spec("web", "8080:80"), try spec("api", "9191:80"), try spec("cache", "6379", "svc/redis")]
        let changes = SpecChanges.between(running: running, wanted: wanted)
        #expect(changes.start.map(\.alias) == ["cache"])
        #expect(changes.stop == ["db"])
        #expect(changes.reload.map(\.alias) == ["api"] && changes.reload.first?.mappings.first?.local == 9191)
        #expect(SpecChanges.between(running: running, wanted: running).isEmpty)
    }
}
