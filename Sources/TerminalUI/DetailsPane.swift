import ControlAPI
import Foundation

/// The selected forward in full: target, context, sockets, transport; its pods with their
/// health; why it is not running and the fix; its last error; its recent changes.
struct DetailsPane {
    let ascii: Bool

    func render(_ row: ForwardRow?, model: ForwardsModel, now: Date, into grid: inout ScreenGrid, rows: Range<Int>) {
        guard let first = rows.first else { return }
        let rule = self.ascii ? "-" : "─"
        grid.put(String(repeating: rule, count: grid.width), row: first, column: 0, style: TextStyle(dim: true))
        guard let row else { return }
        grid.put(" \(row.alias) ", row: first, column: 2, style: TextStyle(bold: true))
        let state = row.state
        var lines: [(String, TextStyle)] = []
        let dot = self.ascii ? " | " : " · "
        var where_ = ["\(row.target) in \(row.namespace.isEmpty ? "the context's namespace" : row.namespace)", "context \(row.context)", row.protocol]
        if let transport = state.transport { where_.append(transport) }
        lines.append((where_.joined(separator: dot), .plain))
        var facts = [TableColumns.stateText(state, now: now)]
        if let since = state.since, state.status != "stopped" { facts.append("since \(ForwardsScreen.clock(since)) (\(ForwardsScreen.duration(now.timeIntervalSince(since))))") }
        if !state.listening.isEmpty { facts.append("listening on \(state.listening.joined(separator: ", "))") }
        lines.append((facts.joined(separator: dot), StateLook.style(state.status)))
        lines.append((
            "\(state.connections) connections (\(state.failedConnections) failed)\(dot)\(state.reconnects) reconnects\(dot)\(state.retries) retries\(dot)"
                + "\(Self.bytes(state.bytesToCluster)) sent, \(Self.bytes(state.bytesFromCluster)) received",
            .plain
        ))
        if !state.pods.isEmpty {
            let pods = state.pods.map { pod in
                if let why = state.failingPods[pod] { return "\(pod) \(self.ascii ? "FAILING" : "✗") \(why)" }
                return "\(pod) \(self.ascii ? "ok" : "✓")"
            }
            lines.append(("pods: " + pods.joined(separator: ", "), state.failingPods.isEmpty ? .plain : TextStyle(color: .yellow)))
        }
        if let following = state.following { lines.append(("following: \(following)", TextStyle(dim: true))) }
        if let fix = state.fix { lines.append(("fix: \(fix)", TextStyle(color: .cyan))) }
        if let error = state.lastError, error != state.reason { lines.append(("last error: \(error)", TextStyle(color: .red))) }
        let timeline = model.timelines[row.alias] ?? []
        let room = rows.count - 1 - lines.count
        if room > 0, !timeline.isEmpty {
            for entry in timeline.suffix(room) {
                lines.append(("\(ForwardsScreen.clock(entry.time)) \(entry.text)", TextStyle(dim: true)))
            }
        }
        for (offset, line) in lines.prefix(rows.count - 1).enumerated() {
            grid.put(line.0, row: first + 1 + offset, column: 1, style: line.1, ascii: self.ascii)
        }
    }

    /// `12.4 kB`, `3 B`.
    static func bytes(_ count: Int64) -> String {
        switch count {
        case ..<1000: "\(count) B"
        case ..<1_000_000: String(format: "%.1f kB", Double(count) / 1000)
        default: String(format: "%.1f MB", Double(count) / 1_000_000)
        }
    }
}
