import Foundation
import KubeSim
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A repository with a `kfwd.yaml`: `kfwd up` in a folder of it runs its forwards and follows
/// the file as it is edited, changing exactly the forwards an edit changes, while a forward the
/// edits do not touch serves a request loop without a failure.
@Suite struct ProjectFileUpTests {
    @Test func editsToTheProjectFileChangeExactlyTheForwardsTheyTouch() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let root = harness.directory.appendingPathComponent("repo")
            try FileManager.default.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("src"), withIntermediateDirectories: true)
            let file = root.appendingPathComponent("kfwd.yaml")
            let header = "defaults: {namespace: default, kubeconfig: \(harness.kubeconfigPath)}\nforwards:\n"
            let web = "- {alias: web, target: svc/web, ports: [\":80\"]}\n"
            try Data((header + web + "- {alias: api, target: svc/web, ports: [\":80\"]}\n- {alias: old, target: deploy/web, ports: [\":8080\"]}\n").utf8).write(to: file)
            let port = { @Sendable (lines: OutputLines, alias: String, after: Int) async throws -> Int in
                let prefix = "\(alias): Forwarding from 127.0.0.1:"
                guard let line = await lines.nth(after + 1, where: { $0.hasPrefix(prefix) }), let port = Int(line.dropFirst(prefix.count).prefix { $0.isNumber }) else {
                    throw KubeSimTestError("\(alias) did not listen: \(lines.all)")
                }
                return port
            }
            let answers = { @Sendable (port: Int) async throws -> Bool in
                try await runCommand("curl", ["-s", "--max-time", "10", "http://127.0.0.1:\(port)/"]).stdout.hasPrefix("pod: web-")
            }
            let run = try await runLongLived(
                .path(FilePath(kfwdPath)), ["up"], environment: ["KFWD_HOME": harness.directory.appendingPathComponent("home").path],
                workingDirectory: root.appendingPathComponent("src").path
            ) { lines in
                let webPort = try await port(lines, "web", 0)
                #expect(try await answers(try await port(lines, "old", 0)))
                let loop = RequestLoop(port: webPort)
                return try await loop.running {
                    try await loop.waitUntil { $0.filter(\.ok).count >= 3 }
                    // A port changed, one forward added, one removed: written in place.
                    try Data((header + web + "- {alias: api, target: svc/web, ports: [\":http\"]}\n- {alias: new, target: svc/web, ports: [\":80\"]}\n").utf8).write(to: file)
                    let changed = await lines.first { $0.hasPrefix("kfwd.yaml changed:") }
                    #expect(changed == "kfwd.yaml changed: started new; stopped old; restarted api", "\(lines.all)")
                    #expect(try await answers(try await port(lines, "new", 0)))
                    #expect(try await answers(try await port(lines, "api", 1)))
                    // A syntax error: said with its place; nothing changes.
                    try Data((header + "- {alias: web, target: svc/web\n").utf8).write(to: file, options: .atomic)
                    let error = await lines.first { $0.hasPrefix("error:") && $0.contains("kfwd.yaml") }
                    #expect(error?.contains("line 4, column 1") == true && error?.hasSuffix("the forwards keep running as they were") == true, "\(lines.all)")
                    // Fixed, by a rename as editors save: only the forward it changes restarts.
                    try Data((header + web + "- {alias: api, target: svc/web, ports: [\":http\"]}\n- {alias: new, target: svc/web, ports: [\":http\"]}\n").utf8).write(to: file, options: .atomic)
                    let fixed = await lines.nth(2) { $0.hasPrefix("kfwd.yaml changed:") }
                    #expect(fixed == "kfwd.yaml changed: restarted new", "\(lines.all)")
                    #expect(try await answers(try await port(lines, "new", 1)))
                    let done = ContinuousClock.now
                    try await loop.waitUntil { $0.filter { $0.start > done }.count >= 3 }
                    return lines.all
                }
            }
            let (results, lines) = run.value
            #expect(results.allSatisfy { $0.ok }, "the untouched forward failed: \(results.filter { !$0.ok }) \(lines)")
            let webListened = lines.filter { $0.hasPrefix("web: Forwarding from 127.0.0.1:") }.count
            #expect(webListened == 1 && !lines.contains("web: stopped"), "web was restarted: \(lines)")
        }
    }
}

extension ProjectFileUpTests {
    /// `address: auto`: two forwards on the same port, each on its own loopback address.
    @Test func twoForwardsShareAPortOnTheirOwnAddresses() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let root = harness.directory.appendingPathComponent("repo")
            try FileManager.default.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
            let port = try await freeLoopbackPort()
            let text = """
                defaults: {kubeconfig: \(harness.kubeconfigPath)}
                forwards:
                - {alias: pg-orders, target: svc/web, ports: ["\(port):80"], address: auto}
                - {alias: pg-billing, target: svc/web, ports: ["\(port):80"], address: auto}
                """
            try Data(text.utf8).write(to: root.appendingPathComponent("kfwd.yaml"))
            let run = try await runLongLived(
                .path(FilePath(kfwdPath)), ["up"], environment: ["KFWD_HOME": harness.directory.appendingPathComponent("home").path], workingDirectory: root.path
            ) { lines in
                var answers: [String: Bool] = [:]
                for alias in ["pg-orders", "pg-billing"] {
                    let prefix = "\(alias): Forwarding from "
                    guard let line = await lines.first(where: { $0.hasPrefix(prefix) }) else { throw KubeSimTestError("\(alias) did not listen: \(lines.all)") }
                    let address = String(line.dropFirst(prefix.count).prefix { $0 != " " })
                    answers[address] = try await runCommand("curl", ["-s", "--max-time", "10", "http://\(address)/"]).stdout.hasPrefix("pod: web-")
                }
                return answers
            }
            #expect(run.value.count == 2 && run.value.values.allSatisfy { $0 }, "\(run.value) \(run.lines)")
            #expect(run.value.keys.allSatisfy { $0.hasPrefix("127.") && $0.hasSuffix(":\(port)") && !$0.hasPrefix("127.0.0.1:") }, "\(run.value)")
        }
    }
}
