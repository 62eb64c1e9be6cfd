/// What a key does in the table. The footer and the help screen are made from
/// ``KeyMap/bindings``, and the table looks keys up in it: a key that is listed acts, and one
/// that acts is listed.
public enum TableCommand: Sendable, Hashable, CaseIterable {
    case up, down, first, last, pageUp, pageDown
    case toggle, mark, markAll, restart, add, edit, delete, log, filter, grouping, importFile, discover, export, help, quit

    /// What help says it does.
    public var summary: String {
        switch self {
        case .up: "move up"
        case .down: "move down"
        case .first: "first forward"
        case .last: "last forward"
        case .pageUp: "a page up"
        case .pageDown: "a page down"
        case .toggle: "start or stop (the marked ones, if any)"
        case .mark: "mark or unmark for space, r and d"
        case .markAll: "mark every forward shown (again: none)"
        case .restart: "restart (the marked ones, if any)"
        case .add: "add a forward"
        case .edit: "edit the forward (a running one restarts)"
        case .importFile: "import a kftray export or a kfwd.yaml, after a preview"
        case .discover: "find the forwards the cluster's Services propose, after a preview"
        case .grouping: "group by context or by tag"
        case .export: "export the saved forwards as kftray JSON"
        case .delete: "delete, after a confirmation"
        case .log: "the forward's log, following"
        case .filter: "filter by any text (Esc clears)"
        case .help: "this help"
        case .quit: "quit (the forwards keep running)"
        }
    }

    /// The footer's word for it; nil when the footer leaves it out.
    public var footer: String? {
        switch self {
        case .toggle: "start/stop"
        case .mark: "mark"
        case .restart: "restart"
        case .add: "add"
        case .edit: "edit"
        case .delete: "delete"
        case .log: "log"
        case .filter: "filter"
        case .help: "help"
        case .quit: "quit"
        default: nil
        }
    }
}

public struct KeyBinding: Sendable {
    public let keys: [Key]
    public let command: TableCommand
}

public enum KeyMap {
    public static let bindings: [KeyBinding] = [
        KeyBinding(keys: [.up, .character("k")], command: .up),
        KeyBinding(keys: [.down, .character("j")], command: .down),
        KeyBinding(keys: [.character("g"), .home], command: .first),
        KeyBinding(keys: [.character("G"), .end], command: .last),
        KeyBinding(keys: [.pageUp, .control("b")], command: .pageUp),
        KeyBinding(keys: [.pageDown, .control("f")], command: .pageDown),
        KeyBinding(keys: [.character(" "), .enter], command: .toggle),
        KeyBinding(keys: [.character("v")], command: .mark),
        KeyBinding(keys: [.character("*")], command: .markAll),
        KeyBinding(keys: [.character("r")], command: .restart),
        KeyBinding(keys: [.character("a")], command: .add),
        KeyBinding(keys: [.character("e")], command: .edit),
        KeyBinding(keys: [.character("d")], command: .delete),
        KeyBinding(keys: [.character("l")], command: .log),
        KeyBinding(keys: [.character("/")], command: .filter),
        KeyBinding(keys: [.character("t")], command: .grouping),
        KeyBinding(keys: [.character("i")], command: .importFile),
        KeyBinding(keys: [.character("f")], command: .discover),
        KeyBinding(keys: [.character("x")], command: .export),
        KeyBinding(keys: [.character("?"), .character("h")], command: .help),
        KeyBinding(keys: [.character("q"), .control("c")], command: .quit),
    ]

    /// The command `key` runs in the table, if any.
    public static func command(for key: Key) -> TableCommand? {
        self.bindings.first { $0.keys.contains(key) }?.command
    }

    /// The footer's hints: `space start/stop  v mark …`.
    public static var footer: [(key: String, word: String)] {
        self.bindings.compactMap { binding in binding.command.footer.map { (binding.keys[0].description, $0) } }
    }

    /// What the table does beyond its commands (``ForwardsModel/handle(_:)`` acts on these).
    public static let others: [(keys: String, summary: String)] = [
        ("Esc", "clear the filter, then the marks"),
        ("click", "select a forward; the wheel scrolls"),
        ("Ctrl-Z", "suspend (fg brings it back)"),
    ]

    /// Help's lines: every binding, its keys and what it does.
    public static var help: [(keys: String, summary: String)] {
        self.bindings.map { ($0.keys.map(\.description).joined(separator: " "), $0.command.summary) } + self.others
    }
}
