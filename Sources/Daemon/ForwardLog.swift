import Forwarding
import Foundation
import Synchronization

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

/// What the daemon's forwards did, in the words `kfwd up` prints: the last lines kept in
/// memory for `kfwd logs` and the dashboard, and followed live. Lines come from the forwards'
/// status changes, so the log says what the status says, never more.
public final class ForwardLog: Sendable {
    private struct State {
        var lines: [LogEntry] = []
        var followers: [UInt64: (alias: String?, continuation: AsyncStream<LogEntry>.Continuation)] = [:]
        var nextFollower: UInt64 = 0
        var closed = false
    }

    /// Lines kept; older ones are dropped (the daemon's own output keeps everything).
    public let capacity: Int
    private let state = Mutex(State())
    /// Also given every line (the daemon's own output, which journald or daemon.log keep).
    private let echo: @Sendable (LogEntry) -> Void

    public init(capacity: Int = 5000, echo: @escaping @Sendable (LogEntry) -> Void = { _ in }) {
        self.capacity = capacity
        self.echo = echo
    }

    public func append(_ entry: LogEntry) {
        self.echo(entry)
        self.state.withLock { state in
            state.lines.append(entry)
            if state.lines.count > self.capacity { state.lines.removeFirst(state.lines.count - self.capacity) }
            for (id, follower) in state.followers where follower.alias == nil || follower.alias == entry.alias {
                if case .terminated = follower.continuation.yield(entry) { state.followers.removeValue(forKey: id) }
            }
        }
    }

    /// The kept lines about `alias` (all lines when nil), oldest first (the `last` ones when
    /// given), then, when `follow`, every new one until the consumer stops or the log closes.
    /// Nothing is lost or repeated between the two.
    public func lines(alias: String?, last: Int? = nil, follow: Bool) -> AsyncStream<LogEntry> {
        // A follower that stops reading loses its oldest lines, never the daemon's time.
        let (stream, continuation) = AsyncStream<LogEntry>.makeStream(bufferingPolicy: .bufferingNewest(self.capacity))
        // Ended followers are dropped at the next append, not from onTermination, which runs
        // under the stream's lock while an append yields under this one.
        self.state.withLock { state in
            for entry in Self.select(state.lines, alias: alias, last: last) { continuation.yield(entry) }
            if follow && !state.closed {
                state.followers[state.nextFollower] = (alias, continuation)
                state.nextFollower += 1
            } else {
                continuation.finish()
            }
        }
        return stream
    }

    /// The kept lines about `alias` (all lines when nil), oldest first; the `last` ones when given.
    public func kept(alias: String?, last: Int? = nil) -> [LogEntry] {
        self.state.withLock { Self.select($0.lines, alias: alias, last: last) }
    }

    private static func select(_ lines: [LogEntry], alias: String?, last: Int?) -> [LogEntry] {
        let matching = lines.filter { alias == nil || $0.alias == alias }
        return Array(matching.suffix(last ?? matching.count))
    }

    /// Ends every follower (the daemon is stopping); lines can still be read.
    public func close() {
        let followers = self.state.withLock { state in
            state.closed = true
            defer { state.followers = [:] }
            return state.followers.values.map(\.continuation)
        }
        for follower in followers { follower.finish() }
    }

    /// Writes a line for each change of a forward's status, until cancelled.
    /// - Parameter spec: names a forward's target in its listening line.
    func record(_ updates: AsyncStream<ForwardStatus>, spec: @escaping @Sendable (String) -> ForwardSpec?) async {
        var last: [String: ForwardStatus] = [:]
        for await status in updates {
            for line in StatusLine.changes(from: last[status.alias], to: status, spec: spec(status.alias)) {
                self.append(LogEntry(alias: line.alias, error: line.isError, message: line.message))
            }
            last[status.alias] = status
        }
    }
}
