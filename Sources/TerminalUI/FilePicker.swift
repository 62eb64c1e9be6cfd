/// The import's file picker: a directory's subdirectories and the files kfwd can import
/// (`.json` kftray exports, `kfwd.yaml` project files), moved through with the table's keys.
/// The runner lists directories; the picker only holds what it was given.
public struct FilePicker: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let isDirectory: Bool

        public init(name: String, isDirectory: Bool) {
            self.name = name
            self.isDirectory = isDirectory
        }
    }

    public enum Outcome: Sendable, Equatable {
        case browsing
        case cancelled
        /// List this directory.
        case open(String)
        /// Preview importing this file.
        case choose(String)
    }

    public private(set) var directory: String
    public private(set) var entries: [Entry] = []
    public private(set) var selection = 0
    /// Why the directory could not be listed.
    public private(set) var problem: String?

    public init(directory: String) {
        self.directory = directory
    }

    /// Files a user may import, and directories to go into; hidden ones only for `.kfwd.yaml`.
    public static func shows(_ entry: Entry) -> Bool {
        if entry.isDirectory { return !entry.name.hasPrefix(".") }
        let name = entry.name.lowercased()
        return name.hasSuffix(".json") || name.hasSuffix(".yaml") || name.hasSuffix(".yml")
    }

    /// What the runner found in `directory`: `..` first, then directories, then files, by name.
    public mutating func listed(_ directory: String, entries: [Entry]?, problem: String? = nil) {
        self.directory = directory
        self.problem = problem
        let shown = (entries ?? []).filter(Self.shows).sorted { ($0.isDirectory ? 0 : 1, $0.name) < ($1.isDirectory ? 0 : 1, $1.name) }
        self.entries = (directory == "/" ? [] : [Entry(name: "..", isDirectory: true)]) + shown
        self.selection = 0
    }

    public var selected: Entry? { self.entries.indices.contains(self.selection) ? self.entries[self.selection] : nil }

    public mutating func handle(_ key: Key, pageSize: Int) -> Outcome {
        switch key {
        case .escape, .character("q"): return .cancelled
        case .up, .character("k"): self.selection = max(0, self.selection - 1)
        case .down, .character("j"): self.selection = min(max(0, self.entries.count - 1), self.selection + 1)
        case .pageUp: self.selection = max(0, self.selection - pageSize)
        case .pageDown: self.selection = min(max(0, self.entries.count - 1), self.selection + pageSize)
        case .home, .character("g"): self.selection = 0
        case .end, .character("G"): self.selection = max(0, self.entries.count - 1)
        case .backspace, .left, .character("h"): return .open(self.path(of: ".."))
        case .enter, .right, .character("l"):
            guard let entry = self.selected else { return .browsing }
            return entry.isDirectory ? .open(self.path(of: entry.name)) : .choose(self.path(of: entry.name))
        default: break
        }
        return .browsing
    }

    /// `name` in the directory, `..` its parent.
    func path(of name: String) -> String {
        if name == ".." {
            let parts = self.directory.split(separator: "/").dropLast()
            return "/" + parts.joined(separator: "/")
        }
        return (self.directory.hasSuffix("/") ? self.directory : self.directory + "/") + name
    }
}
