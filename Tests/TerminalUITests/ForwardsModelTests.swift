import ControlAPI
import Foundation
import Testing

@testable import TerminalUI

/// Every way the terminal UI's model changes, and what it asks its runner to do: no terminal,
/// no daemon.
struct ForwardsModelTests {
    @Test func movingStopsAtTheEndsAndTheSelectionFollowsItsAliasAcrossSnapshots() {
        var model = Fixtures.model()
        #expect(model.visible.map(\.alias) == ["db", "dns", "shop-api", "web", "cache"], "by context, then alias")
        #expect(model.selected == "db")
        #expect(model.handle(.character("k")).isEmpty)
        #expect(model.selected == "db")
        _ = model.handle(.character("j"))
        _ = model.handle(.down)
        #expect(model.selected == "shop-api")
        _ = model.handle(.character("G"))
        #expect(model.selected == "cache")
        _ = model.handle(.character("j"))
        #expect(model.selected == "cache")
        _ = model.handle(.home)
        #expect(model.selected == "db")
        _ = model.handle(.pageDown)
        #expect(model.selected == "cache")
        // The selected forward deleted elsewhere: the first one is selected.
        _ = model.handle(.character("j"))
        var snapshot = Fixtures.snapshot
        snapshot.forwards.removeAll { $0.alias == "cache" }
        model.update(snapshot, at: Fixtures.now)
        #expect(model.selected == "db")
    }

    @Test func spaceStartsAStoppedForwardAndStopsARunningOne() {
        var model = Fixtures.model()
        #expect(model.handle(.character(" ")) == [.start(["db"])])
        _ = model.handle(.character("j"))
        #expect(model.handle(.enter) == [.stop(["dns"])])
        #expect(model.message?.text == "stopping dns…")
        #expect(model.handle(.character("r")) == [.restart(["dns"])])
    }

    @Test func marksMakeSpaceRestartAndDeleteActOnSeveral() {
        var model = Fixtures.model()
        _ = model.handle(.character("v"))
        #expect(model.selected == "dns", "marking moves on")
        _ = model.handle(.character("v"))
        _ = model.handle(.character("j"))
        _ = model.handle(.character("v"))
        #expect(model.marked == ["db", "dns", "web"])
        // A stopped one among them: space starts the stopped ones.
        #expect(model.handle(.character(" ")) == [.start(["db"])])
        #expect(model.handle(.character("r")) == [.restart(["db", "dns", "web"])])
        _ = model.handle(.character("d"))
        #expect(model.mode == .confirmDelete(["db", "dns", "web"]))
        #expect(model.handle(.character("n")).isEmpty)
        #expect(model.mode == .table && model.marked.count == 3, "nothing deleted, marks kept")
        _ = model.handle(.character("d"))
        #expect(model.handle(.character("y")) == [.delete(["db", "dns", "web"])])
        #expect(model.marked.isEmpty)
        // All running: space stops them all.
        _ = model.handle(.character("g"))
        _ = model.handle(.character("j"))
        _ = model.handle(.character("v"))
        _ = model.handle(.character("v"))
        #expect(model.marked == ["dns", "shop-api"])
        #expect(model.handle(.character(" ")) == [.stop(["dns", "shop-api"])])
        _ = model.handle(.escape)
        #expect(model.marked.isEmpty, "Esc clears the marks")
        // *: every forward shown, then none; with a filter, only those it lets through.
        _ = model.handle(.character("*"))
        #expect(model.marked.count == 5)
        _ = model.handle(.character("*"))
        #expect(model.marked.isEmpty)
        _ = model.handle(.character("/"))
        for character in "web" { _ = model.handle(.character(character)) }
        _ = model.handle(.enter)
        _ = model.handle(.character("*"))
        #expect(model.marked == ["shop-api", "web"])
        #expect(model.handle(.character("r")) == [.restart(["shop-api", "web"])])
    }

    @Test func theFilterMatchesAnyTextAndEscClearsIt() {
        var model = Fixtures.model()
        _ = model.handle(.character("/"))
        #expect(model.mode == .filtering)
        for character in "WEB" { _ = model.handle(.character(character)) }
        #expect(model.visible.map(\.alias) == ["shop-api", "web"], "alias or target, any case")
        #expect(model.selected == "shop-api")
        _ = model.handle(.backspace)
        _ = model.handle(.backspace)
        _ = model.handle(.backspace)
        for character in "busy" { _ = model.handle(.character(character)) }
        #expect(model.visible.map(\.alias) == ["cache"], "the reason too")
        _ = model.handle(.enter)
        #expect(model.mode == .table && model.filter == "busy")
        #expect(model.handle(.character("q")) == [.quit], "keys act again once the filter is kept")
        _ = model.handle(.escape)
        #expect(model.filter.isEmpty && model.visible.count == 5)
        _ = model.handle(.character("/"))
        for character in "pod/x" { _ = model.handle(.character(character)) }
        _ = model.handle(.escape)
        #expect(model.mode == .table && model.filter.isEmpty)
    }

    @Test func helpLogQuitAndSuspend() {
        var model = Fixtures.model()
        _ = model.handle(.character("?"))
        #expect(model.mode == .help)
        #expect(model.handle(.character("x")).isEmpty)
        #expect(model.mode == .table, "any key closes help")
        #expect(model.handle(.character("l")) == [.followLog("db")])
        #expect(model.handle(.character("j")).isEmpty && model.mode == .log("db"))
        #expect(model.handle(.escape) == [.followLog(nil)])
        #expect(model.handle(.control("z")) == [.suspend])
        #expect(model.handle(.control("c")) == [.quit])
        #expect(model.handle(.character("q")) == [.quit])
        #expect(model.handle(.character("Z")).isEmpty, "an unbound key does nothing")
    }

    @Test func aClickSelectsTheForwardOnThatRowAndTheWheelMoves() {
        var model = Fixtures.model()
        model.pageSize = 12
        // Row 2 is the first group's heading, rows 3... its forwards.
        _ = model.handle(.click(row: 5, column: 10))
        #expect(model.selected == "shop-api")
        _ = model.handle(.click(row: 2, column: 10))
        #expect(model.selected == "shop-api", "a heading is not a forward")
        _ = model.handle(.click(row: 30, column: 10))
        #expect(model.selected == "shop-api")
        _ = model.handle(.scrollDown)
        #expect(model.selected == "cache")
        _ = model.handle(.scrollUp)
        #expect(model.selected == "dns")
    }

    @Test func groupingByTagPutsUntaggedForwardsTogether() {
        let model = Fixtures.model(grouping: .tag)
        #expect(model.lines.compactMap { if case .group(let name, let count) = $0 { "\(name) \(count)" } else { nil } } == ["#data 1", "#front 1", "untagged 3"])
    }

    @Test func snapshotsMakeATimelineAndRates() {
        var model = Fixtures.model()
        var next = Fixtures.snapshot
        next.forwards[0].state.pods = ["web-7d9f8-zzzzz"]
        next.forwards[0].state.reconnects = 3
        next.forwards[0].state.bytesToCluster = 2000
        next.forwards[0].state.bytesFromCluster = 8000
        next.forwards[1].state.status = "running"
        next.forwards[1].state.reason = nil
        model.update(next, at: Fixtures.now.addingTimeInterval(2))
        #expect(model.timelines["web"]?.map(\.text) == ["pods: web-7d9f8-zzzzz", "reconnected (3 in all)"])
        #expect(model.timelines["shop-api"]?.map(\.text) == ["waiting -> running"])
        #expect(model.rates["web"]?.toCluster == 1000 && model.rates["web"]?.fromCluster == 4000)
        let wide = Fixtures.render(model, width: 160, height: 48).text
        #expect(wide.contains("5.0 kB/s"), "\(wide)")
        // No snapshot for a while: nothing moved.
        model.tick(at: Fixtures.now.addingTimeInterval(5))
        #expect(model.rates["web"]?.toCluster == 0)
    }

    @Test func whatAnActionDidGoesToTheStatusLine() {
        var model = Fixtures.model()
        var result = ControlResult()
        result.done = ["db"]
        result.details = ["db: running, listening on 127.0.0.1:5432"]
        model.finished("started", result)
        #expect(model.message == .init(text: "db: running, listening on 127.0.0.1:5432", isError: false))
        result.errors = ["db: local port 5432 is busy"]
        model.finished("started", result)
        #expect(model.message == .init(text: "db: local port 5432 is busy", isError: true))
        model.disconnected("the daemon stopped")
        #expect(!model.connected)
        #expect(Fixtures.render(model, width: 80, height: 24).line(0).contains("daemon not connected"))
    }

    @Test func theKeyMapBindsEveryCommandOnceAndEachKeyToOneCommand() {
        let bound = KeyMap.bindings.map(\.command)
        #expect(Set(bound) == Set(TableCommand.allCases))
        #expect(bound.count == TableCommand.allCases.count)
        let keys = KeyMap.bindings.flatMap(\.keys)
        #expect(Set(keys).count == keys.count)
        #expect(KeyMap.footer.map(\.key).suffix(2) == ["?", "q"])
    }
}
