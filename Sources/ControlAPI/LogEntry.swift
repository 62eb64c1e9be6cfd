import Foundation

/// One line of the daemon's log of what its forwards did.
public struct LogEntry: Codable, Sendable, Equatable {
    public var time: Date
    /// The forward it is about; nil for the daemon itself.
    public var alias: String?
    public var error: Bool
    public var message: String

    public init(time: Date = Date(), alias: String?, error: Bool = false, message: String) {
        self.time = time
        self.alias = alias
        self.error = error
        self.message = message
    }

    /// `2026-11-22T08:01:02Z web: ready, new connections go to web-1`, as `kfwd logs` prints it.
    public var line: String { "\(self.time.formatted(.iso8601)) \(self.text)" }

    /// Without the time (the daemon's logger adds its own).
    public var text: String { "\(self.alias.map { "\($0): " } ?? "")\(self.message)" }
}
