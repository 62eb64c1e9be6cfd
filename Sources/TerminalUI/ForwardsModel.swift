import ControlAPI
import Foundation

/// Everything `kfwd tui` shows, as a value: the daemon's last snapshot, the selection, marks,
/// filter, what is open (help, a confirmation, the add form, a log), the status line, byte
/// rates and each forward's recent changes. Events go in as mutating calls; keys return the
/// ``TUIAction``s the runner carries out. No I/O: ``ForwardsScreen`` draws it into a grid.
public struct ForwardsModel: Sendable {
    public enum Mode: Sendable, Equatable {
        case table
        /// Typing the filter after `/`.
        case filtering
        case help
        case confirmDelete([String])
        case form(ForwardForm)
        case log(String)
        /// Choosing a file to import.
        case picker(FilePicker)
        /// Asking the cluster's Services what they propose.
        case discovering
        /// What importing the chosen file (or the proposals) would do; y imports it.
        case importPreview(ImportPreview)
        /// Typing where the export goes.
        case exporting(String)
    }

    public enum Grouping: String, Sendable, CaseIterable {
        case context, tag
    }

    /// A line of the table: a group's heading or a forward.
    public enum Line: Sendable, Equatable {
        case group(String, count: Int)
        case forward(ForwardRow)
    }

    public struct Message: Sendable, Equatable {
        public var text: String
        public var isError: Bool
    }

    public internal(set) var rows: [ForwardRow] = []
    public internal(set) var daemonPID: Int32?
    /// Whether a snapshot has come since the daemon (re)connected.
    public internal(set) var connected = false
    public internal(set) var selected: String?
    public internal(set) var marked: Set<String> = []
    public internal(set) var filter = ""
    public internal(set) var mode: Mode = .table
    public internal(set) var message: Message?
    public internal(set) var logLines: [LogEntry] = []
    public internal(set) var timelines: [String: [TimelineEntry]] = [:]
    /// Bytes per second each way, per forward.
    public internal(set) var rates: [String: (toCluster: Double, fromCluster: Double)] = [:]
    /// The first table line shown.
    public internal(set) var scroll = 0
    public var grouping: Grouping
    /// The kubeconfig's contexts, for the add form.
    public var contexts: [String] = []
    /// How many table lines fit (set from the screen's size).
    public var pageSize = 10
    /// Where the file picker starts and a relative export path is written.
    public var workingDirectory = "/"

    private var samples: [String: (time: Date, toCluster: Int64, fromCluster: Int64)] = [:]

    static let timelineLength = 30
    static let logLength = 500

    public init(grouping: Grouping = .context) {
        self.grouping = grouping
    }

    // MARK: events

    /// A snapshot from the daemon: rows replaced, the selection kept on the same alias (or
    /// the first row when it went), changes added to the timelines, rates updated.
    public mutating func update(_ snapshot: ForwardsSnapshot, at time: Date) {
        let old = Dictionary(self.rows.map { ($0.alias, $0) }, uniquingKeysWith: { $1 })
        for row in snapshot.forwards {
            if let before = old[row.alias] {
                let changes = TimelineEntry.changes(from: before, to: row, at: time)
                if !changes.isEmpty { self.timelines[row.alias, default: []].append(contentsOf: changes) }
                if let count = self.timelines[row.alias]?.count, count > Self.timelineLength {
                    self.timelines[row.alias]?.removeFirst(count - Self.timelineLength)
                }
            }
            self.sample(row, at: time)
        }
        self.rows = snapshot.forwards
        self.daemonPID = snapshot.daemonPID
        self.connected = true
        let aliases = Set(self.rows.map(\.alias))
        self.marked.formIntersection(aliases)
        self.timelines = self.timelines.filter { aliases.contains($0.key) }
        self.rates = self.rates.filter { aliases.contains($0.key) }
        self.samples = self.samples.filter { aliases.contains($0.key) }
        self.keepSelection()
    }

    /// A second passed: rates of forwards that sent no new counts fall to zero (the daemon
    /// sends a snapshot only when something changed).
    public mutating func tick(at time: Date) {
        for (alias, sample) in self.samples where time.timeIntervalSince(sample.time) > 2 {
            self.rates[alias] = (0, 0)
        }
    }

    /// The daemon went away (it stopped, or the connection broke).
    public mutating func disconnected(_ why: String) {
        self.connected = false
        self.say(why, error: true)
    }

    /// What an action did, for the status line.
    public mutating func say(_ text: String, error: Bool = false) {
        self.message = Message(text: text, isError: error)
    }

    /// A directory listed for the file picker (nil entries: it could not be, `problem` says why).
    public mutating func listed(_ directory: String, entries: [FilePicker.Entry]?, problem: String? = nil) {
        guard case .picker(var picker) = self.mode else { return }
        picker.listed(directory, entries: entries, problem: problem)
        self.mode = .picker(picker)
    }

    /// What importing the chosen file, or the cluster's proposals, would do.
    public mutating func preview(_ preview: ImportPreview) {
        switch self.mode {
        case .picker, .discovering: self.mode = .importPreview(preview)
        default: break
        }
    }

    /// A line of the log being followed (one for another forward, from a follow just ended, is dropped).
    public mutating func appendLog(_ entry: LogEntry) {
        guard case .log(let alias) = self.mode, entry.alias == alias else { return }
        self.logLines.append(entry)
        if self.logLines.count > Self.logLength { self.logLines.removeFirst(self.logLines.count - Self.logLength) }
    }

    private mutating func sample(_ row: ForwardRow, at time: Date) {
        let now = (time: time, toCluster: row.state.bytesToCluster, fromCluster: row.state.bytesFromCluster)
        guard let last = self.samples[row.alias] else {
            self.samples[row.alias] = now
            return
        }
        let seconds = time.timeIntervalSince(last.time)
        guard seconds >= 0.5 else { return }
        // Counters start again from zero when a forward restarts.
        let sent = max(0, now.toCluster - last.toCluster), received = max(0, now.fromCluster - last.fromCluster)
        self.rates[row.alias] = (Double(sent) / seconds, Double(received) / seconds)
        self.samples[row.alias] = now
    }

    // MARK: what is shown

    /// The forwards the filter lets through, in table order: by group, then alias.
    public var visible: [ForwardRow] {
        self.lines.compactMap { if case .forward(let row) = $0 { row } else { nil } }
    }

    /// The table's lines: each group's heading, then its forwards.
    public var lines: [Line] {
        let needle = self.filter.lowercased()
        let shown = self.rows.filter { needle.isEmpty || Self.haystack($0).contains(needle) }
        var groups: [String: [ForwardRow]] = [:]
        for row in shown { groups[self.group(of: row), default: []].append(row) }
        return groups.keys.sorted().flatMap { name in
            let members = groups[name, default: []].sorted { $0.alias < $1.alias }
            return [Line.group(name, count: members.count)] + members.map(Line.forward)
        }
    }

    func group(of row: ForwardRow) -> String {
        switch self.grouping {
        case .context: row.context
        case .tag: row.tags.first.map { "#\($0)" } ?? "untagged"
        }
    }

    /// Everything the filter matches against, lower-cased.
    static func haystack(_ row: ForwardRow) -> String {
        let state = row.state
        let parts = [row.alias, row.target, row.namespace, row.context, row.ports, row.protocol, state.status, state.reason ?? ""] + state.pods + row.tags
        return parts.joined(separator: " ").lowercased()
    }

    public var selectedRow: ForwardRow? {
        self.rows.first { $0.alias == self.selected }
    }

    /// The selected forward's index in ``lines``.
    var selectedLine: Int? {
        self.lines.firstIndex { if case .forward(let row) = $0 { row.alias == self.selected } else { false } }
    }

    /// What space, r and d act on: the marked forwards, else the selected one.
    var targets: [String] {
        if !self.marked.isEmpty { return self.visible.map(\.alias).filter(self.marked.contains) }
        return self.selected.map { [$0] } ?? []
    }

    mutating func keepSelection() {
        let visible = self.visible
        if let selected = self.selected, visible.contains(where: { $0.alias == selected }) {
            self.scrollToSelection()
            return
        }
        self.selected = visible.first?.alias
        self.scroll = 0
        self.scrollToSelection()
    }

    mutating func select(_ alias: String?) {
        self.selected = alias
        self.scrollToSelection()
    }

    private mutating func scrollToSelection() {
        let count = self.lines.count
        guard let line = self.selectedLine else {
            self.scroll = min(self.scroll, max(0, count - self.pageSize))
            return
        }
        // Keep the group's heading in view above the first forward.
        let top = line == 1 ? 0 : line
        if top < self.scroll { self.scroll = top }
        if line >= self.scroll + self.pageSize { self.scroll = line - self.pageSize + 1 }
        self.scroll = max(0, min(self.scroll, max(0, count - self.pageSize)))
    }
}

extension ForwardsModel {
    /// What a start, stop or restart did, for the status line: the errors when there are any,
    /// else each forward's state line.
    public mutating func finished(_ verb: String, _ result: ControlResult) {
        if !result.errors.isEmpty {
            self.say(result.errors.joined(separator: "; "), error: true)
        } else if !result.details.isEmpty {
            self.say(result.details.joined(separator: "; "))
        } else if !result.done.isEmpty {
            self.say("\(verb) \(result.done.joined(separator: ", "))")
        } else if !result.unchanged.isEmpty {
            self.say("\(result.unchanged.joined(separator: ", ")): nothing to do")
        }
    }
}
