/// One thing the user did at the terminal: a key (with what a terminal can tell of its
/// modifiers) or a mouse event.
public enum Key: Sendable, Hashable {
    case character(Character)
    /// Ctrl with a letter (`.control("c")`), as a terminal in raw mode sends it.
    case control(Character)
    case up, down, left, right, home, end, pageUp, pageDown
    case enter, escape, backspace, delete, tab, backTab
    /// A click (button 0, pressed) at a cell, zero-based.
    case click(row: Int, column: Int)
    case scrollUp, scrollDown
}

extension Key: CustomStringConvertible {
    /// How help and the footer name it.
    public var description: String {
        switch self {
        case .character(" "): "space"
        case .character(let character): String(character)
        case .control(let character): "Ctrl-\(character.uppercased())"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .home: "Home"
        case .end: "End"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .enter: "Enter"
        case .escape: "Esc"
        case .backspace: "Backspace"
        case .delete: "Del"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        case .click: "click"
        case .scrollUp: "wheel up"
        case .scrollDown: "wheel down"
        }
    }
}
