import ControlAPI
import Foundation

/// Draws a ``ForwardsModel`` at a size: the title bar, the table (grouped), the selected
/// forward's details, the footer of keys and the status line, with help, the delete
/// confirmation, the add form or a log over them. Pure: the same model, size and time give
/// the same grid.
public struct ForwardsScreen: Sendable {
    public let width: Int
    public let height: Int
    /// Draw with ASCII only (no `●`, `→`, `…`).
    public let ascii: Bool

    static let tableTop = 2
    static let minimumWidth = 40
    static let minimumHeight = 10

    public init(width: Int, height: Int, ascii: Bool = false) {
        self.width = width
        self.height = height
        self.ascii = ascii
    }

    /// Rows of the details pane (with its rule); none on a short screen.
    var detailsHeight: Int { self.height >= 20 ? min(12, self.height / 3) : 0 }

    /// How many table lines fit: what the model pages and scrolls by.
    public var pageSize: Int { max(1, self.height - Self.tableTop - 2 - self.detailsHeight) }

    public func render(_ model: ForwardsModel, now: Date) -> ScreenGrid {
        var grid = ScreenGrid(width: self.width, height: self.height)
        guard self.width >= Self.minimumWidth, self.height >= Self.minimumHeight else {
            grid.put("kfwd tui needs at least \(Self.minimumWidth)x\(Self.minimumHeight)", row: 0, column: 0)
            return grid
        }
        self.title(model, into: &grid)
        if case .log(let alias) = model.mode {
            self.log(alias, model, into: &grid)
        } else {
            let columns = TableColumns(width: self.width, ascii: self.ascii)
            columns.heading(into: &grid, row: 1)
            self.table(model, columns: columns, now: now, into: &grid)
            if self.detailsHeight > 0 {
                DetailsPane(ascii: self.ascii).render(model.selectedRow, model: model, now: now, into: &grid, rows: (self.height - 2 - self.detailsHeight)..<(self.height - 2))
            }
        }
        self.footer(model, into: &grid)
        self.status(model, into: &grid)
        switch model.mode {
        case .help: self.help(into: &grid)
        case .form(let form): FormPane(form: form, ascii: self.ascii).render(into: &grid)
        case .picker(let picker): ImportPane(ascii: self.ascii).render(picker, into: &grid)
        case .importPreview(let preview): ImportPane(ascii: self.ascii).render(preview, into: &grid)
        default: break
        }
        return grid
    }

    private func title(_ model: ForwardsModel, into grid: inout ScreenGrid) {
        let counts = Dictionary(grouping: model.rows, by: \.state.status).mapValues(\.count)
        var parts = ["\(model.rows.count) forward\(model.rows.count == 1 ? "" : "s")"]
        for state in ["running", "waiting", "starting", "degraded", "retrying", "stopped"] {
            if let count = counts[state] { parts.append("\(count) \(state)") }
        }
        let daemon = model.connected ? model.daemonPID.map { "daemon \($0)" } ?? "daemon" : "daemon not connected"
        let dot = self.ascii ? " | " : " · "
        let right = "\(daemon)  ? help "
        grid.put(" kfwd  " + parts.joined(separator: dot), row: 0, column: 0, limit: max(0, self.width - right.count - 1), style: TextStyle(bold: true, reverse: true), ascii: self.ascii)
        grid.put(right, row: 0, column: max(0, self.width - right.count), style: TextStyle(reverse: true))
        grid.restyle(row: 0) { $0.reverse = true }
    }

    private func table(_ model: ForwardsModel, columns: TableColumns, now: Date, into grid: inout ScreenGrid) {
        let lines = model.lines
        if lines.isEmpty {
            let text = model.rows.isEmpty ? "No saved forwards: press a to add one (or kfwd add, kfwd import)." : "Nothing matches /\(model.filter) (Esc clears the filter)."
            grid.put(text, row: Self.tableTop, column: 2, style: TextStyle(dim: true), ascii: self.ascii)
            return
        }
        for (offset, line) in lines.dropFirst(model.scroll).prefix(model.pageSize).enumerated() {
            let row = Self.tableTop + offset
            switch line {
            case .group(let name, let count):
                grid.put("\(name) (\(count))", row: row, column: 1, style: TextStyle(color: .cyan, bold: true), ascii: self.ascii)
            case .forward(let forward):
                columns.draw(forward, marked: model.marked.contains(forward.alias), rate: model.rates[forward.alias], now: now, into: &grid, row: row)
                if forward.alias == model.selected { grid.restyle(row: row) { $0.reverse = true } }
            }
        }
        if model.scroll > 0 { grid.put(self.ascii ? "^" : "▲", row: Self.tableTop, column: self.width - 1, style: TextStyle(dim: true)) }
        if model.scroll + model.pageSize < lines.count {
            grid.put(self.ascii ? "v" : "▼", row: Self.tableTop + model.pageSize - 1, column: self.width - 1, style: TextStyle(dim: true))
        }
    }

    private func log(_ alias: String, _ model: ForwardsModel, into grid: inout ScreenGrid) {
        grid.put("Log of \(alias), following (Esc or q: back)", row: 1, column: 1, style: TextStyle(bold: true), ascii: self.ascii)
        let room = self.height - 4
        let lines = model.logLines.suffix(room)
        if lines.isEmpty { grid.put("nothing logged yet", row: 2, column: 2, style: TextStyle(dim: true)) }
        for (offset, entry) in lines.enumerated() {
            let time = Self.clock(entry.time)
            grid.put("\(time) \(entry.message)", row: 2 + offset, column: 1, style: entry.error ? TextStyle(color: .red) : .plain, ascii: self.ascii)
        }
    }

    private func footer(_ model: ForwardsModel, into grid: inout ScreenGrid) {
        let row = self.height - 2
        var column = 1
        let hints: [(key: String, word: String)] =
            switch model.mode {
            case .form: [("Tab", "next field"), ("Enter", "save and start"), ("Esc", "cancel")]
            case .confirmDelete: [("y", "delete"), ("n", "keep")]
            case .log: [("Esc", "back")]
            case .filtering: [("Enter", "keep filter"), ("Esc", "clear")]
            case .help: [("any key", "close")]
            case .picker: [("Enter", "open or choose"), ("Backspace", "up a directory"), ("Esc", "cancel")]
            case .importPreview: [("y", "import"), ("n", "cancel")]
            case .discovering: [("Esc", "cancel")]
            case .exporting: [("Enter", "write it"), ("Esc", "cancel")]
            case .table: KeyMap.footer
            }
        // The last two (help and quit in the table) stay in view at the right; the others
        // fill what is left from the left.
        let pinned = model.mode == .table ? Array(hints.suffix(2)) : []
        let pinnedWidth = pinned.reduce(0) { $0 + $1.key.count + $1.word.count + 3 }
        for hint in hints.dropLast(pinned.count) {
            guard column + hint.key.count + hint.word.count + 2 < self.width - pinnedWidth else { break }
            column = grid.put(hint.key, row: row, column: column, style: TextStyle(bold: true), ascii: self.ascii)
            column = grid.put(" \(hint.word)  ", row: row, column: column, style: TextStyle(dim: true))
        }
        column = max(column, self.width - pinnedWidth)
        for hint in pinned {
            column = grid.put(hint.key, row: row, column: column, style: TextStyle(bold: true), ascii: self.ascii)
            column = grid.put(" \(hint.word)  ", row: row, column: column, style: TextStyle(dim: true))
        }
    }

    private func status(_ model: ForwardsModel, into grid: inout ScreenGrid) {
        let row = self.height - 1
        switch model.mode {
        case .filtering:
            let end = grid.put("/" + model.filter, row: row, column: 0, ascii: self.ascii)
            grid.cursor = (row, min(end, self.width - 1))
        case .discovering:
            grid.put("Asking the cluster's Services what forwards they propose…", row: row, column: 0, style: TextStyle(bold: true), ascii: self.ascii)
        case .exporting(let path):
            let prompt = "Export the saved forwards (kftray JSON) to: "
            grid.put(prompt, row: row, column: 0, style: TextStyle(bold: true))
            let end = grid.put(path, row: row, column: prompt.count, ascii: self.ascii)
            grid.cursor = (row, min(end, self.width - 1))
        case .confirmDelete(let aliases):
            grid.put("Delete \(aliases.joined(separator: ", "))? Its saved settings go too. y/n", row: row, column: 0, style: TextStyle(color: .yellow, bold: true), ascii: self.ascii)
        default:
            if let message = model.message {
                grid.put(message.text, row: row, column: 0, style: message.isError ? TextStyle(color: .red, bold: true) : .plain, ascii: self.ascii)
            } else if !model.filter.isEmpty {
                grid.put("filter: /\(model.filter)", row: row, column: 0, style: TextStyle(dim: true), ascii: self.ascii)
            }
        }
    }

    private func help(into grid: inout ScreenGrid) {
        let lines = KeyMap.help
        let keysWidth = (lines.map(\.keys.count).max() ?? 0) + 2
        let boxWidth = min(self.width - 4, keysWidth + (lines.map(\.summary.count).max() ?? 0) + 4)
        let boxHeight = min(self.height - 2, lines.count + 3)
        let top = max(1, (self.height - boxHeight) / 2), left = max(2, (self.width - boxWidth) / 2)
        Box(top: top, left: left, width: boxWidth, height: boxHeight, title: "Keys", ascii: self.ascii).draw(into: &grid)
        for (offset, line) in lines.prefix(boxHeight - 3).enumerated() {
            grid.put(line.keys, row: top + 1 + offset, column: left + 2, limit: keysWidth, style: TextStyle(bold: true), ascii: self.ascii)
            grid.put(line.summary, row: top + 1 + offset, column: left + 2 + keysWidth, limit: boxWidth - keysWidth - 3, ascii: self.ascii)
        }
        grid.put("any key closes", row: top + boxHeight - 2, column: left + 2, style: TextStyle(dim: true))
    }

    /// `14:02:09`, in local time.
    static func clock(_ date: Date) -> String {
        let parts = Calendar.current.dateComponents([.hour, .minute, .second], from: date)
        return String(format: "%02d:%02d:%02d", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }

    /// `3h12m`, `4m05s`, `12s`.
    static func duration(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds))
        if total >= 86_400 { return "\(total / 86_400)d\(total % 86_400 / 3600)h" }
        if total >= 3600 { return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m" }
        if total >= 60 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total)s"
    }

    /// `1.2 MB/s`, `340 B/s`.
    static func rate(_ bytesPerSecond: Double) -> String {
        switch bytesPerSecond {
        case ..<1: "0"
        case ..<1000: "\(Int(bytesPerSecond)) B/s"
        case ..<1_000_000: String(format: "%.1f kB/s", bytesPerSecond / 1000)
        default: String(format: "%.1f MB/s", bytesPerSecond / 1_000_000)
        }
    }
}

/// A framed, cleared rectangle over the screen.
struct Box {
    let top: Int, left: Int, width: Int, height: Int
    let title: String
    let ascii: Bool

    func draw(into grid: inout ScreenGrid) {
        let (horizontal, vertical, corners) = self.ascii ? ("-", "|", ["+", "+", "+", "+"]) : ("─", "│", ["┌", "┐", "└", "┘"])
        for row in self.top..<(self.top + self.height) {
            let inner = String(repeating: " ", count: max(0, self.width - 2))
            let edge = row == self.top || row == self.top + self.height - 1
            let fill = edge ? String(repeating: horizontal, count: max(0, self.width - 2)) : inner
            let (leftEdge, rightEdge) =
                row == self.top ? (corners[0], corners[1]) : row == self.top + self.height - 1 ? (corners[2], corners[3]) : (vertical, vertical)
            grid.put(leftEdge + fill + rightEdge, row: row, column: self.left)
        }
        grid.put(" \(self.title) ", row: self.top, column: self.left + 2, style: TextStyle(bold: true))
    }
}
