import Testing

@testable import TerminalUI

/// What the terminal is sent: a whole first frame, then only what changed.
struct ScreenRendererTests {
    @Test func theFirstFrameIsWholeAndLaterOnesOnlyWhatChanged() {
        var renderer = ScreenRenderer(colors: true)
        var grid = ScreenGrid(width: 20, height: 3)
        grid.put("kfwd", row: 0, column: 0, style: TextStyle(color: .green))
        let first = renderer.render(grid)
        #expect(first.contains("\u{1B}[2J") && first.contains("\u{1B}[0;32mkfwd"))
        #expect(first.hasPrefix("\u{1B}[?2026h") && first.hasSuffix("\u{1B}[?2026l"), "one synchronized update per frame")
        #expect(renderer.render(grid).isEmpty, "nothing changed, nothing sent")
        grid.put("X", row: 2, column: 4)
        let change = renderer.render(grid)
        #expect(change.contains("\u{1B}[3;5H\u{1B}[0mX"), "\(change.debugDescription)")
        #expect(!change.contains("kfwd") && !change.contains("\u{1B}[2J"))
        renderer.invalidate()
        #expect(renderer.render(grid).contains("\u{1B}[2J"), "after a resize or a resume: whole again")
    }

    @Test func withoutColoursOnlyBoldDimAndReverseRemain() {
        var renderer = ScreenRenderer(colors: false)
        var grid = ScreenGrid(width: 10, height: 1)
        grid.put("run", row: 0, column: 0, style: TextStyle(color: .red, bold: true, reverse: true))
        let out = renderer.render(grid)
        #expect(out.contains("\u{1B}[0;1;7mrun") && !out.contains("31"))
    }

    @Test func textIsCutWithAnEllipsisAndWideOrControlCharactersKeepTheColumns() {
        var grid = ScreenGrid(width: 10, height: 2)
        let end = grid.put("a-long-alias", row: 0, column: 0, limit: 6)
        #expect(grid.line(0) == "a-lo-…".replacingOccurrences(of: "-…", with: "n…") && end == 6)
        grid.put("日x\u{7}y", row: 1, column: 0)
        #expect(grid.line(1) == "?x y")
        grid.put("é", row: 1, column: 0, ascii: true)
        #expect(grid.line(1) == "?x y")
    }
}
