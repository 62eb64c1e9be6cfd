/// The body of `POST /v1/start` and `POST /v1/stop`: some aliases, or all saved forwards.
public struct ControlRequest: Codable, Sendable {
    public var aliases: [String]
    public var all: Bool

    public init(aliases: [String] = [], all: Bool = false) {
        self.aliases = aliases
        self.all = all
    }
}

/// What a start or stop did, by alias; `errors` name the alias and why.
public struct ControlResult: Codable, Sendable, Equatable {
    public var done: [String] = []
    public var unchanged: [String] = []
    public var errors: [String] = []
    /// One line per forward started: its state and where it listens.
    public var details: [String] = []

    public init() {}
}
