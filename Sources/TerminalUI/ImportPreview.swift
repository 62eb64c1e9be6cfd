import ConfigStore

/// What importing a file would do, found by running the import and rolling it back: the same
/// path as the import itself, so that the preview cannot promise what the import does not do.
public struct ImportPreview: Sendable, Equatable {
    /// What would be imported.
    public enum Source: Sendable, Equatable {
        /// A kftray export or a project file.
        case file(String)
        /// What the cluster's Services propose (``ServiceDiscovery``), as found for the preview.
        case discovery([ServiceDiscovery.Proposal])
    }

    public var source: Source
    /// The file, or where the proposals were found.
    public var path: String
    /// `kftray export` or `project shop`.
    public var kind: String
    public var added: [String] = []
    public var updated: [String] = []
    public var unchanged: [String] = []
    /// A project's forwards no longer in its file.
    public var removed: [String] = []
    /// Why it cannot be imported (nothing is).
    public var problems: [String] = []
    /// What was passed over on the way (a namespace that may not be listed, an annotation that
    /// does not parse); the rest imports.
    public var notes: [String] = []

    public init(path: String, kind: String, source: Source? = nil) {
        self.path = path
        self.kind = kind
        self.source = source ?? .file(path)
    }

    /// Whether there is anything to import.
    public var changes: Bool { self.problems.isEmpty && !(self.added.isEmpty && self.updated.isEmpty && self.removed.isEmpty) }

    /// `2 added, 1 updated, 3 unchanged`.
    public var summary: String {
        var parts = ["\(self.added.count) added", "\(self.updated.count) updated", "\(self.unchanged.count) unchanged"]
        if !self.removed.isEmpty { parts.append("\(self.removed.count) removed") }
        return parts.joined(separator: ", ")
    }
}
