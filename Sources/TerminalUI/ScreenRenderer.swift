/// Turns frames into what the terminal is sent: the first frame (and one after a resize or a
/// resume) whole, each later one as only the runs of cells that changed, so that a slow link
/// carries little and nothing flickers. Each frame is sent as one synchronized update (mode
/// 2026: kitty, iTerm2, WezTerm, foot, Windows Terminal, tmux 3.4 and later show it whole or not
/// at all; other terminals ignore the two sequences).
public struct ScreenRenderer: Sendable {
    private var shown: ScreenGrid?
    public let colors: Bool

    public init(colors: Bool) {
        self.colors = colors
    }

    /// Forgets what is on the screen: the next frame is drawn whole (after a resize, a resume
    /// from Ctrl-Z, or anything else that may have drawn over it).
    public mutating func invalidate() {
        self.shown = nil
    }

    /// The bytes that take the terminal from the last frame to `frame`.
    public mutating func render(_ frame: ScreenGrid) -> String {
        if frame == self.shown { return "" }
        var out = "\u{1B}[?2026h\u{1B}[?25l"
        let previous = self.shown.flatMap { $0.width == frame.width && $0.height == frame.height ? $0 : nil }
        if previous == nil { out += "\u{1B}[0m\u{1B}[2J" }
        var style: TextStyle?
        for row in 0..<frame.height {
            var column = 0
            while column < frame.width {
                if let previous, previous[row, column] == frame[row, column] {
                    column += 1
                    continue
                }
                if previous == nil, frame[row, column] == .blank {
                    column += 1
                    continue
                }
                // A run of changed cells, written after one cursor move.
                out += "\u{1B}[\(row + 1);\(column + 1)H"
                while column < frame.width, previous.map({ $0[row, column] != frame[row, column] }) ?? (frame[row, column] != .blank) {
                    let cell = frame[row, column]
                    if cell.style != style {
                        out += cell.style.escape(colors: self.colors)
                        style = cell.style
                    }
                    out.append(cell.character)
                    column += 1
                }
            }
        }
        out += "\u{1B}[0m"
        if let cursor = frame.cursor {
            out += "\u{1B}[\(cursor.row + 1);\(cursor.column + 1)H\u{1B}[?25h"
        }
        out += "\u{1B}[?2026l"
        self.shown = frame
        return out
    }
}
