import ControlAPI
import Foundation

/// A change of a forward seen between two snapshots: its state, its pods, a reconnect. The
/// details pane lists the last ones.
public struct TimelineEntry: Sendable, Equatable {
    public var time: Date
    public var text: String

    /// What changed from `old` to `new`, oldest first; nothing when nothing the user follows did.
    static func changes(from old: ForwardRow, to new: ForwardRow, at time: Date) -> [TimelineEntry] {
        var entries: [TimelineEntry] = []
        let before = old.state, after = new.state
        if before.status != after.status || before.reason != after.reason {
            let why = after.reason.map { ": \($0)" } ?? ""
            entries.append(TimelineEntry(time: time, text: "\(before.status) -> \(after.status)\(why)"))
        }
        if before.pods != after.pods && !(after.pods.isEmpty && after.status == "stopped") {
            let pods = after.pods.isEmpty ? "none" : after.pods.joined(separator: ", ")
            entries.append(TimelineEntry(time: time, text: "pods: \(pods)"))
        }
        if after.reconnects > before.reconnects {
            entries.append(TimelineEntry(time: time, text: "reconnected (\(after.reconnects) in all)"))
        }
        if after.failedConnections > before.failedConnections, let error = after.lastError {
            entries.append(TimelineEntry(time: time, text: "connection failed: \(error)"))
        }
        return entries
    }
}
