import ControlAPI
import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// `kfwd tui` in a real terminal (tmux), over a real daemon and KubeSim: what is on the screen
/// agrees with `kfwd status --json`, keys act, the table follows the cluster live, and quitting
/// leaves a working shell and the forwards running.
@Suite struct TerminalUITests {
    @Test(.timeLimit(.minutes(3))) func theTUIShowsActsAndLeavesTheTerminalAsItWas() async throws {
        try await SimHarness.run(manifest: webWithUDPServiceManifest + DashboardTeamTests.annotatedService, configure: { $0.mapRelayImage() }) { harness in
            try await StoreCommandTests.withHome { home in
                let environment = ["KFWD_HOME": home, "KUBECONFIG": harness.kubeconfigPath]
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: environment) }
                for (alias, arguments) in [
                    ("web", ["svc/web", ":80"]), ("ghost", ["svc/nosuch", ":80"]), ("dns", ["svc/dns", ":53", "--udp"]), ("db", ["deploy/web", ":8080"]),
                ] {
                    let added = try await kfwd(["add", alias] + arguments)
                    #expect(added.succeeded, "\(added.stderr)")
                }
                #expect(try await kfwd(["settings", "set", "relay_image", testRelayImage]).succeeded)
                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: environment) { daemon in
                    guard await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                    let started = try await kfwd(["start", "web", "ghost", "dns"])
                    #expect(started.succeeded, "\(started.stdout) \(started.stderr)")
                    _ = try await DaemonTests.status(home) { report in
                        report.forwards.first { $0.alias == "web" }?.pods.count == 2 && report.forwards.first { $0.alias == "dns" }?.status == "running"
                    }

                    // The pane's directory, where the file picker starts and the export goes.
                    let directory = home + "/work"
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    try Data(Self.teamExport.utf8).write(to: URL(fileURLWithPath: directory + "/team.json"))
                    let pane = try await TmuxPane.start(width: 120, height: 32, environment: environment, directory: directory)
                    do {
                        try await self.drive(pane, harness: harness, home: home, kfwd: kfwd)
                        try await self.importAndExport(pane, directory: directory, home: home)
                        try await self.quit(pane)
                        await pane.kill()
                    } catch {
                        print(try await pane.capture())
                        await pane.kill()
                        throw error
                    }
                    // Quitting left the forwards in the daemon.
                    let report = try await DaemonTests.status(home)
                    let web = try #require(report.forwards.first { $0.alias == "web" })
                    #expect(web.status == "running")
                    #expect(try await DaemonTests.answers(web.listening.first))
                }
            }
        }
    }

    private func drive(
        _ pane: TmuxPane, harness: SimHarness, home: String, kfwd: @escaping @Sendable ([String]) async throws -> CommandResult
    ) async throws {
        try await pane.send("kfwd tui", "Enter")
        // The four forwards with their states, as the daemon has them.
        var screen = try await pane.screen { $0.contains(" kfwd  4 forwards · 2 running · 1 waiting · 1 stopped") }
        #expect(TmuxPane.row("web", in: screen)?.contains("● web") == true, "\(screen)")
        #expect(TmuxPane.row("ghost", in: screen)?.contains("◌ ghost") == true && TmuxPane.row("ghost", in: screen)?.contains("waiting: service") == true, "\(screen)")
        #expect(TmuxPane.row("dns", in: screen)?.contains("53/udp") == true && TmuxPane.row("dns", in: screen)?.contains("running") == true, "\(screen)")
        #expect(TmuxPane.row("db", in: screen)?.contains("○ db") == true && TmuxPane.row("db", in: screen)?.contains("stopped") == true, "\(screen)")

        // db is first (by alias) and selected: space starts it; the screen and kfwd status agree.
        try await pane.send("Space")
        screen = try await pane.screen { TmuxPane.row("db", in: $0)?.contains("● db") == true }
        let db = try await DaemonTests.status(home).forwards.first { $0.alias == "db" }
        #expect(db?.status == "running")
        #expect(db?.pods.first.map { TmuxPane.row("db", in: screen)?.contains($0) == true } == true, "\(screen)")

        // The running forward's pods are force-deleted: its pod column changes by itself.
        let before = try await DaemonTests.status(home).forwards.first { $0.alias == "web" }?.pods ?? []
        for pod in before { try harness.sim.delete("pods", name: pod, gracePeriod: 0) }
        screen = try await pane.screen { screen in
            guard let row = TmuxPane.row("web", in: screen) else { return false }
            return row.contains("● web") && !before.contains { row.contains($0) } && row.contains("web-")
        }
        let after = try await DaemonTests.status(home).forwards.first { $0.alias == "web" }?.pods ?? []
        #expect(Set(after).isDisjoint(with: before) && after.contains { TmuxPane.row("web", in: screen)?.contains($0) == true }, "\(after) \(screen)")

        // /web filters: only forwards with web in them stay.
        try await pane.send("/web", literally: true)
        screen = try await pane.screen { TmuxPane.row("ghost", in: $0) == nil }
        #expect(TmuxPane.row("web", in: screen) != nil && TmuxPane.row("db", in: screen) != nil, "db's target is deploy/web")
        #expect(TmuxPane.row("dns", in: screen) == nil)
        try await pane.send("Escape")
        try await pane.screen { TmuxPane.row("ghost", in: $0) != nil }

        // ? shows the help, made from the key map; any key closes it.
        try await pane.send("?")
        screen = try await pane.screen { $0.contains(" Keys ") }
        #expect(screen.contains("mark or unmark for space, r and d") && screen.contains("quit (the forwards keep running)"), "\(screen)")
        try await pane.send("x")
        try await pane.screen { !$0.contains(" Keys ") }

        // a: the form adds a forward, which starts.
        try await pane.send("a")
        try await pane.screen { $0.contains("Add a forward") }
        try await pane.send("api", "Tab", "svc/web", "Tab", ":80", "Enter")
        screen = try await pane.screen { TmuxPane.row("api", in: $0)?.contains("● api") == true }
        #expect(try await DaemonTests.status(home).forwards.first { $0.alias == "api" }?.status == "running")

    }

    /// A teammate's kftray export, in the pane's directory (a forward of its own: one of the
    /// same service, namespace and protocol would update the saved one, as kftray merges).
    static let teamExport = """
        [{"alias": "team-dns", "namespace": "default", "workload_type": "service", "service": "dns", "protocol": "tcp", "local_port": 0, "remote_port": 53}]
        """

    /// x writes the export where it runs; i picks the teammate's file, previews it, imports it.
    private func importAndExport(_ pane: TmuxPane, directory: String, home: String) async throws {
        try await pane.send("x")
        try await pane.screen { $0.contains("Export the saved forwards (kftray JSON) to: kfwd-forwards.json") }
        try await pane.send("Enter")
        try await pane.screen { $0.contains("exported to \(directory)/kfwd-forwards.json") }
        let exported = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/kfwd-forwards.json"))) as? [[String: Any]]
        #expect(exported?.compactMap { $0["alias"] as? String }.contains("web") == true, "\(String(describing: exported))")

        try await pane.send("i")
        var screen = try await pane.screen { $0.contains("team.json") }
        #expect(screen.contains(directory) && screen.contains("kfwd-forwards.json"), "\(screen)")
        // .., kfwd-forwards.json, team.json
        try await pane.send("j", "j", "Enter")
        screen = try await pane.screen { $0.contains("Import kftray export") }
        #expect(screen.contains("1 added, 0 updated, 0 unchanged") && screen.contains("add: team-dns"), "\(screen)")
        #expect(try await DaemonTests.status(home).forwards.contains { $0.alias == "team-dns" } == false, "a preview imports nothing")
        try await pane.send("y")
        screen = try await pane.screen { TmuxPane.row("team-dns", in: $0)?.contains("○ team-dns") == true }
        #expect(screen.contains("imported \(directory)/team.json: 1 added"), "\(screen)")

        // f: what the cluster's Services propose, previewed, then saved.
        try await pane.send("f")
        screen = try await pane.screen { $0.contains("Import the cluster's proposals") }
        #expect(screen.contains("context kubesim") && screen.contains("add: docs"), "\(screen)")
        try await pane.send("y")
        try await pane.screen { TmuxPane.row("docs", in: $0)?.contains("○ docs") == true }
    }

    private func quit(_ pane: TmuxPane) async throws {
        // q: the shell is back, echoing what is typed (no raw mode left), on the main screen.
        try await pane.send("q")
        try await pane.screen { $0.contains("$ kfwd tui") && !$0.contains(" kfwd  7 forwards") }
        try await pane.send("echo tui-$((40 + 2))", "Enter")
        let screen = try await pane.screen { $0.contains("tui-42") }
        #expect(screen.contains("$ echo tui-$((40 + 2))"), "the typed command echoed: \(screen)")
    }

    /// Every way out gives the terminal back: Ctrl-C, SIGTERM, SIGHUP, a crash (SIGSEGV), and
    /// Ctrl-Z suspends it until `fg`, which redraws it. A resize redraws at the new size.
    @Test(.timeLimit(.minutes(2))) func everyWayOutGivesTheTerminalBack() async throws {
        try await StoreCommandTests.withHome { home in
            let environment = ["KFWD_HOME": home]
            #expect(try await runCommand(kfwdPath, ["add", "web", "svc/web", ":80"], environment: environment).succeeded)
            _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: environment) { daemon in
                guard await daemon.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(daemon.all)") }
                // In the scratch home: a crash's core file, if the machine writes one, goes with it.
                let pane = try await TmuxPane.start(width: 80, height: 24, environment: environment, directory: home)
                do {
                    try await Self.leaveEveryWay(pane)
                    await pane.kill()
                } catch {
                    print(try await pane.capture())
                    await pane.kill()
                    throw error
                }
            }
        }
    }

    /// The daemon stops under the TUI: the title and the status line say so; a new daemon
    /// comes: the table follows it at once (its socket appearing wakes the TUI).
    @Test(.timeLimit(.minutes(2))) func theTableFollowsTheDaemonAwayAndBack() async throws {
        try await StoreCommandTests.withHome { home in
            let environment = ["KFWD_HOME": home]
            #expect(try await runCommand(kfwdPath, ["add", "web", "svc/web", ":80"], environment: environment).succeeded)
            let pane = try await TmuxPane.start(width: 100, height: 30, environment: environment, directory: home)
            do {
                let daemon = { @Sendable (_ body: @escaping @Sendable (Int32) async throws -> Void) async throws in
                    _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: environment) { lines in
                        let prefix = "kfwd daemon ready (pid "
                        guard let ready = await lines.first(where: { $0.hasPrefix(prefix) }), let pid = Int32(ready.dropFirst(prefix.count).prefix { $0.isNumber }) else {
                            throw KubeSimTestError("no daemon: \(lines.all)")
                        }
                        try await body(pid)
                    }
                }
                try await daemon { pid in
                    try await pane.send("kfwd tui", "Enter")
                    try await pane.screen { $0.contains(" kfwd  1 forward") && $0.contains("daemon \(pid)") }
                }
                let away = try await pane.screen { $0.contains("daemon not connected") }
                #expect(away.contains("the daemon stopped: kfwd start (or kfwd tui again) runs it"), "\(away)")
                try await daemon { pid in
                    let back = try await pane.screen(timeout: .seconds(10)) { $0.contains("daemon \(pid)") }
                    #expect(back.contains(" kfwd  1 forward"))
                    try await pane.send("q")
                    try await pane.screen { $0.contains("$ kfwd tui") && !$0.contains(" kfwd  1 forward") }
                }
                await pane.kill()
            } catch {
                print(try await pane.capture())
                await pane.kill()
                throw error
            }
        }
    }

    private static func leaveEveryWay(_ pane: TmuxPane) async throws {
        var round = 0
        func tuiThen(_ leave: () async throws -> Void) async throws {
            round += 1
            try await pane.send("clear; kfwd tui", "Enter")
            try await pane.screen { $0.contains(" kfwd  1 forward") }
            try await leave()
            try await pane.send("echo back-$((\(round) * 10))", "Enter")
            let screen = try await pane.screen { $0.contains("back-\(round * 10)") }
            #expect(screen.contains("$ echo back-$((\(round) * 10))"), "round \(round): the typed command echoes: \(screen)")
        }
        /// kfwd tui's pid: the pane's shell's child.
        func tuiProcess() async throws -> String {
            let shell = try await pane.tmux(["display-message", "-p", "-t", "0", "#{pane_pid}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return try await runCommand("pgrep", ["-P", shell]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try await tuiThen {
            // A resize redraws at the new size (SIGWINCH): the title's right end moves with it.
            let title = { @Sendable (screen: String) in screen.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? "" }
            #expect(title(try await pane.capture()).count == 79, "80 wide, the last cell a space")
            try await pane.tmux(["resize-window", "-t", "0", "-x", "100", "-y", "30"])
            let resized = try await pane.screen { title($0).count == 99 && title($0).hasSuffix("? help") }
            #expect(resized.split(separator: "\n", omittingEmptySubsequences: false).count >= 30)
            try await pane.send("C-c")
        }
        for signal in ["TERM", "HUP", "SEGV"] {
            try await tuiThen {
                let pid = try await tuiProcess()
                #expect(try await runCommand("kill", ["-\(signal)", pid]).succeeded, "kill -\(signal) \(pid)")
                // Gone (a crash dumps core first), so that what is typed next goes to the shell.
                var checks = 0
                while checks < 100, try await runCommand("kill", ["-0", pid]).succeeded {
                    checks += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        try await tuiThen {
            try await pane.send("C-z")
            try await pane.screen { $0.contains("Stopped") }
            try await pane.send("fg", "Enter")
            try await pane.screen { $0.contains(" kfwd  1 forward") }
            try await pane.send("q")
        }
    }
}
