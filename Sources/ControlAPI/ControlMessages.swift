/// The body of `POST /v1/start` and `POST /v1/stop`: some aliases, or all saved forwards.
public struct ControlRequest: Codable, Sendable {
    public var aliases: [String]
    public var all: Bool

    public init(aliases: [String] = [], all: Bool = false) {
        self.aliases = aliases
        self.all = all
    }

    /// Either field may be left out (`{"all": true}`, `{"aliases": ["web"]}`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.aliases = try container.decodeIfPresent([String].self, forKey: .aliases) ?? []
        self.all = try container.decodeIfPresent(Bool.self, forKey: .all) ?? false
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

    /// The error for an alias no saved forward has (the daemon's, and the CLI's before it starts one).
    public static func unknownAlias(_ alias: String) -> String {
        "\(alias): no forward is saved with this alias (kfwd list shows them; kfwd add saves one)"
    }
}

/// `GET /v1/dashboard`: where the dashboard is, with its token, or why it is not running.
public struct DashboardInfo: Codable, Sendable, Equatable {
    public var url: String?
    public var error: String?

    public init(url: String?, error: String?) {
        self.url = url
        self.error = error
    }
}
