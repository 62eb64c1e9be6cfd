import ControlAPI
import Foundation
import Testing

@testable import TerminalUI

/// What the terminal UI draws for a model at a size, read as text as `tmux capture-pane` reads it.
struct ForwardsScreenTests {
    @Test func eightyByTwentyFourShowsEveryForwardItsStateAndTheKeysThatMatter() {
        let grid = Fixtures.render(Fixtures.model(), width: 80, height: 24)
        let lines = (0..<24).map(grid.line)
        #expect(lines[0].hasPrefix(" kfwd  5 forwards · 2 running · 1 waiting · 1 retrying"), "\(grid.text)")
        #expect(lines[0].hasSuffix("daemon 4242  ? help"), "the right end is not drawn over: \(lines[0])")
        #expect(lines[1] == "   ALIAS        TARGET               PORTS        STATE", "no pods column at 80: \(lines[1])")
        #expect(lines[2] == " dev (4)")
        #expect(lines[3] == " ○ db           svc/postgres (shop)  5432→5432    stopped")
        #expect(lines[4].hasPrefix(" ● dns          svc/kube-dns (kube-… 5353→53/udp  running"))
        #expect(lines[5].hasPrefix(" ◌ shop-api     svc/webb (shop)      9090→80      waiting: service shop/webb d"))
        #expect(lines[5].hasSuffix("…"), "a cut reason says it is cut")
        #expect(lines[7] == " prod (1)")
        #expect(lines[8].hasPrefix(" ✖ cache        svc/redis (shop)     6379→6379    retrying 3, next in 5s: loca"))
        // The details pane of the selected forward (the first), then the footer.
        #expect(lines[14].hasPrefix("── db ──"))
        #expect(lines[15] == " svc/postgres in shop · context dev · tcp")
        #expect(lines[22].hasPrefix(" space start/stop  v mark"))
        #expect(lines[22].hasSuffix("? help  q quit"), "help and quit stay in view: \(lines[22])")
        #expect(lines.allSatisfy { $0.count <= 80 })
    }

    @Test func oneSixtyByFortyEightAddsPodsUptimeRestartsConnectionsAndRate() {
        var model = Fixtures.model()
        _ = model.handle(.character("G"))
        _ = model.handle(.character("k"))
        #expect(model.selected == "web")
        let grid = Fixtures.render(model, width: 160, height: 48)
        let lines = (0..<48).map(grid.line)
        #expect(lines[1].contains("PODS") && lines[1].hasSuffix("UP      RST CONN  RATE"), "\(lines[1])")
        let web = lines.first { $0.hasPrefix(" ● web ") } ?? ""
        #expect(web.contains("svc/web (shop)") && web.contains("web-7d9f8-x2x9z +1") && web.contains("3m12s   2   14"), "\(web)")
        let dns = lines.first { $0.hasPrefix(" ● dns ") } ?? ""
        #expect(dns.contains("svc/kube-dns (kube-system)") && dns.contains("kfwd-relay-1a2b3c") && dns.contains("1h01m"), "\(dns)")
        #expect(lines.contains { $0.contains("waiting: service shop/webb does not exist") }, "room for the whole reason")
        let details = lines.drop { !$0.hasPrefix("── web ──") }
        #expect(details.contains(" svc/web in shop · context dev · tcp · tunnel"), "\(grid.text)")
        #expect(details.contains { $0.hasPrefix(" running · since ") && $0.hasSuffix("(3m12s) · listening on 127.0.0.1:8080") })
        #expect(details.contains(" 14 connections (0 failed) · 2 reconnects · 0 retries · 0 B sent, 0 B received"))
        #expect(details.contains(" pods: web-7d9f8-x2x9z ✓, web-7d9f8-abcde ✓"))
    }

    @Test func aWaitingForwardShowsItsFixAndAFailingPodIsMarked() {
        var snapshot = Fixtures.snapshot
        snapshot.forwards[0].state.failingPods = ["web-7d9f8-abcde": "connection refused"]
        var model = Fixtures.model(snapshot)
        _ = model.handle(.character("G"))
        _ = model.handle(.character("k"))
        var grid = Fixtures.render(model, width: 120, height: 32)
        #expect(grid.text.contains("pods: web-7d9f8-x2x9z ✓, web-7d9f8-abcde ✗ connection refused"), "\(grid.text)")
        #expect(grid.text.contains("running, 1 pod failing its probe"))
        _ = model.handle(.character("k"))
        grid = Fixtures.render(model, width: 120, height: 32)
        #expect(grid.text.contains(" fix: check the name: kubectl get svc -n shop"), "\(grid.text)")
    }

    @Test func asciiDrawsWithoutUnicode() {
        let grid = Fixtures.render(Fixtures.model(), width: 100, height: 30, ascii: true)
        #expect(grid.text.allSatisfy { $0.isASCII }, "\(grid.text)")
        #expect(grid.text.contains(" + web          svc/web (shop)       8080->80"))
        #expect(grid.text.contains(" ~ shop-api"))
        #expect(grid.text.contains(" x cache"))
        #expect(grid.text.contains(" - db"))
    }

    @Test func helpListsEveryKeyOfTheKeyMap() {
        var model = Fixtures.model()
        _ = model.handle(.character("?"))
        let text = Fixtures.render(model, width: 100, height: 32).text
        for line in KeyMap.help {
            #expect(text.contains(line.summary), "help lacks \(line.summary)")
        }
        #expect(text.contains("space Enter"))
    }

    @Test func nothingSavedSaysHowToAddAndATinyTerminalSaysItsSize() {
        let empty = Fixtures.render(Fixtures.model(ForwardsSnapshot(daemonPID: 1, forwards: [])), width: 80, height: 24)
        #expect(empty.line(2).contains("No saved forwards: press a to add one"))
        let tiny = Fixtures.render(Fixtures.model(), width: 30, height: 8)
        #expect(tiny.line(0) == "kfwd tui needs at least 40x10")
    }

    @Test func theTableScrollsToKeepTheSelectionInView() {
        let many = ForwardsSnapshot(daemonPID: 1, forwards: (0..<40).map { Fixtures.row(String(format: "f%02d", $0), "svc/web", ports: ["\(9000 + $0):80"]) })
        var model = Fixtures.model(many)
        model.pageSize = ForwardsScreen(width: 80, height: 24).pageSize
        _ = model.handle(.character("G"))
        let grid = Fixtures.render(model, width: 80, height: 24)
        #expect(model.selected == "f39")
        #expect(grid.line(13).hasPrefix(" ○ f39"), "\(grid.text)")
        #expect(grid.line(2).hasSuffix("▲"), "more above")
        _ = model.handle(.character("g"))
        #expect(Fixtures.render(model, width: 80, height: 24).line(2) == " dev (40)")
    }

    @Test func theLogShowsTheForwardsLinesFollowing() {
        var model = Fixtures.model()
        #expect(model.handle(.character("l")) == [.followLog("db")])
        model.appendLog(LogEntry(time: Fixtures.now, alias: "db", message: "ready, new connections go to postgres-0"))
        model.appendLog(LogEntry(time: Fixtures.now, alias: "web", message: "a line from a follow that ended"))
        let text = Fixtures.render(model, width: 80, height: 24).text
        #expect(text.contains("Log of db, following"))
        #expect(text.contains("ready, new connections go to postgres-0"))
        #expect(!text.contains("a line from a follow that ended"))
    }
}
