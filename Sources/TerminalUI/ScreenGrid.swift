/// What is on the screen: rows of cells, each one column wide. The view draws into it; the
/// renderer sends the terminal only the cells that differ from the last frame; tests read it
/// as text.
public struct ScreenGrid: Sendable, Equatable {
    public struct Cell: Sendable, Equatable {
        public var character: Character
        public var style: TextStyle

        public static let blank = Cell(character: " ", style: .plain)
    }

    public let width: Int
    public let height: Int
    private(set) var cells: [Cell]
    /// Where the terminal's cursor stays visible (a form field being typed in), else hidden.
    public var cursor: (row: Int, column: Int)? {
        get { self.cursorPosition.map { ($0 / max(self.width, 1), $0 % max(self.width, 1)) } }
        set { self.cursorPosition = newValue.map { $0.row * self.width + $0.column } }
    }
    private var cursorPosition: Int?

    public init(width: Int, height: Int) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        self.cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(row: Int, column: Int) -> Cell {
        self.cells[row * self.width + column]
    }

    /// Writes `text` from `column` on `row`, cut at `limit` columns (and at the edge); a cut
    /// text ends in `…` (`~` in ASCII) so that it does not look whole. Characters wider than
    /// one column are drawn as `?`: the grid keeps one cell per column.
    /// - Returns: the column after the text.
    @discardableResult
    public mutating func put(_ text: String, row: Int, column: Int, limit: Int? = nil, style: TextStyle = .plain, ascii: Bool = false) -> Int {
        guard row >= 0, row < self.height, column < self.width else { return column }
        let room = min(limit ?? Int.max, self.width - max(column, 0))
        guard room > 0 else { return column }
        var characters = text.map { Self.drawable($0, ascii: ascii) }
        if characters.count > room {
            characters = Array(characters.prefix(room - 1)) + [ascii ? "~" : "…"]
        }
        var at = column
        for character in characters {
            if at >= 0 { self.cells[row * self.width + at] = Cell(character: character, style: style) }
            at += 1
        }
        return at
    }

    /// Sets the style of `count` cells from `column` on `row`, keeping their characters (the
    /// selection's bar).
    public mutating func restyle(row: Int, column: Int = 0, count: Int? = nil, _ change: (inout TextStyle) -> Void) {
        guard row >= 0, row < self.height else { return }
        let end = min(self.width, column + (count ?? self.width))
        for at in max(column, 0)..<max(end, max(column, 0)) { change(&self.cells[row * self.width + at].style) }
    }

    /// The row as text, trailing spaces dropped: what `tmux capture-pane` would show.
    public func line(_ row: Int) -> String {
        var text = String(self.cells[(row * self.width)..<((row + 1) * self.width)].map(\.character))
        while text.last == " " { text.removeLast() }
        return text
    }

    /// Every row as text, one per line.
    public var text: String {
        (0..<self.height).map(self.line).joined(separator: "\n")
    }

    public static func == (lhs: ScreenGrid, rhs: ScreenGrid) -> Bool {
        lhs.width == rhs.width && lhs.height == rhs.height && lhs.cells == rhs.cells && lhs.cursorPosition == rhs.cursorPosition
    }

    /// Control characters become spaces; wide characters (CJK, emoji) `?`; anything beyond
    /// ASCII `?` in ASCII mode.
    private static func drawable(_ character: Character, ascii: Bool) -> Character {
        guard let scalar = character.unicodeScalars.first else { return " " }
        if scalar.value < 0x20 || scalar.value == 0x7F { return " " }
        if ascii && !character.isASCII { return "?" }
        if character.unicodeScalars.count > 1 || Self.isWide(scalar) { return "?" }
        return character
    }

    private static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
            0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
