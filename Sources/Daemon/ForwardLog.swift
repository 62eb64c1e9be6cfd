import ControlAPI
import Forwarding
import Foundation
import Signals
import Synchronization

/// What the daemon's forwards did, in the words `kfwd up` prints: the last lines kept in
/// memory for `kfwd logs` and the dashboard, and followed live. Lines come from the forwards'
/// status changes, so the log says what the status says, never more.
public final class ForwardLog: Sendable {
    /// Lines kept; older ones are dropped (the daemon's own output keeps everything).
    public let capacity: Int
    private let lines = Mutex<[LogEntry]>([])
    private let followers = Broadcaster<LogEntry>()
    /// Also given every line (the daemon's own output, which journald or daemon.log keep).
    private let echo: @Sendable (LogEntry) -> Void

    public init(capacity: Int = 5000, echo: @escaping @Sendable (LogEntry) -> Void = { _ in }) {
        self.capacity = capacity
        self.echo = echo
    }

    public func append(_ entry: LogEntry) {
        self.echo(entry)
        self.lines.withLock { lines in
            lines.append(entry)
            if lines.count > self.capacity { lines.removeFirst(lines.count - self.capacity) }
            // Under the lock, so that a follower joining gets this line once: kept, or live.
            self.followers.publish(entry)
        }
    }

    /// The kept lines about `alias` (all lines when nil), oldest first (the `last` ones when
    /// given), then, when `follow`, every new one until the consumer stops or the log closes.
    /// Nothing is lost or repeated between the two.
    public func lines(alias: String?, last: Int? = nil, follow: Bool) -> AsyncStream<LogEntry> {
        self.lines.withLock { lines in
            let kept = Self.select(lines, alias: alias, last: last)
            guard follow else {
                let (stream, continuation) = AsyncStream<LogEntry>.makeStream()
                for entry in kept { continuation.yield(entry) }
                continuation.finish()
                return stream
            }
            // A follower that stops reading loses its oldest lines, never the daemon's time.
            return self.followers.subscribe(limit: self.capacity, initial: { continuation in
                for entry in kept { continuation.yield(entry) }
            }) { entry in alias == nil || entry.alias == alias ? entry : nil }
        }
    }

    /// The kept lines about `alias` (all lines when nil), oldest first; the `last` ones when given.
    public func kept(alias: String?, last: Int? = nil) -> [LogEntry] {
        self.lines.withLock { Self.select($0, alias: alias, last: last) }
    }

    private static func select(_ lines: [LogEntry], alias: String?, last: Int?) -> [LogEntry] {
        let matching = lines.filter { alias == nil || $0.alias == alias }
        return Array(matching.suffix(last ?? matching.count))
    }

    /// Ends every follower (the daemon is stopping); lines can still be read.
    public func close() {
        self.followers.finish()
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
