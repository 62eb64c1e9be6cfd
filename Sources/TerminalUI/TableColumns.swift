import ControlAPI
import Foundation

/// The table's columns at a width: alias, target, ports and state always; the pods from 100
/// columns; uptime, restarts, connections and rate from 120.
struct TableColumns {
    struct Column {
        let title: String
        let width: Int
    }

    let ascii: Bool
    let alias = Column(title: "ALIAS", width: 12)
    let target: Column
    let ports = Column(title: "PORTS", width: 12)
    let state: Column
    let pods: Column?
    let wide: Bool

    init(width: Int, ascii: Bool) {
        self.ascii = ascii
        self.wide = width >= 120
        self.target = Column(title: "TARGET", width: width >= 140 ? 28 : 20)
        self.pods = width >= 100 ? Column(title: "PODS", width: 20) : nil
        let fixed = 3 + 13 + self.target.width + 1 + 13 + (self.pods.map { $0.width + 1 } ?? 0) + (self.wide ? 8 + 4 + 6 + 11 : 0)
        self.state = Column(title: "STATE", width: max(10, width - fixed - 1))
    }

    func heading(into grid: inout ScreenGrid, row: Int) {
        var cells = [(self.alias.title, self.alias.width), (self.target.title, self.target.width), (self.ports.title, self.ports.width), (self.state.title, self.state.width)]
        if let pods = self.pods { cells.append((pods.title, pods.width)) }
        if self.wide { cells += [("UP", 7), ("RST", 3), ("CONN", 5), ("RATE", 10)] }
        var column = 3
        for (title, width) in cells {
            grid.put(title, row: row, column: column, limit: width, style: TextStyle(bold: true, dim: true))
            column += width + 1
        }
    }

    func draw(_ forward: ForwardRow, marked: Bool, rate: (toCluster: Double, fromCluster: Double)?, now: Date, into grid: inout ScreenGrid, row: Int) {
        let state = forward.state
        let look = StateLook.style(state.status)
        if marked { grid.put("*", row: row, column: 0, style: TextStyle(bold: true)) }
        grid.put(StateLook.symbol(state.status, ascii: self.ascii), row: row, column: 1, style: look)
        var column = 3
        func cell(_ text: String, _ width: Int, style: TextStyle = .plain) {
            grid.put(text, row: row, column: column, limit: width, style: style, ascii: self.ascii)
            column += width + 1
        }
        cell(forward.alias, self.alias.width, style: TextStyle(bold: true))
        let namespace = forward.namespace.isEmpty ? "" : " (\(forward.namespace))"
        cell(forward.target + namespace, self.target.width)
        let arrow = self.ascii ? "->" : "→"
        let udp = forward.protocol == "udp" ? "/udp" : ""
        cell(Self.ports(forward).replacingOccurrences(of: ":", with: arrow) + udp, self.ports.width)
        cell(Self.stateText(state, now: now), self.state.width, style: look)
        if let pods = self.pods {
            let text = state.pods.isEmpty ? "-" : state.pods[0] + (state.pods.count > 1 ? " +\(state.pods.count - 1)" : "")
            cell(text, pods.width, style: state.failingPods.isEmpty ? .plain : TextStyle(color: .yellow))
        }
        guard self.wide else { return }
        let running = state.status != "stopped"
        cell(running ? state.since.map { ForwardsScreen.duration(now.timeIntervalSince($0)) } ?? "-" : "-", 7)
        cell(String(state.reconnects), 3)
        cell(state.failedConnections > 0 ? "\(state.connections)!" : String(state.connections), 5, style: state.failedConnections > 0 ? TextStyle(color: .yellow) : .plain)
        cell(running ? ForwardsScreen.rate((rate?.toCluster ?? 0) + (rate?.fromCluster ?? 0)) : "-", 10)
    }

    /// The saved ports, with the port the daemon picked for a local port 0 (`:80` saved) once
    /// it listens.
    static func ports(_ forward: ForwardRow) -> String {
        guard forward.ports.hasPrefix("0:"), !forward.ports.contains(","), let socket = forward.state.listening.first,
            let port = socket.split(separator: ":").last
        else { return forward.ports }
        return String(port) + forward.ports.dropFirst()
    }

    /// `running`, `waiting: svc/web has no ready pod`, `retrying 3, next in 4s: port 8080 is busy`,
    /// `running, 1 pod failing its probe`.
    static func stateText(_ state: StatusReport.Forward, now: Date) -> String {
        var text = state.status
        if state.status == "retrying" {
            text += " \(state.retries)"
            if let delay = state.retryDelay, let since = state.since {
                let left = since.addingTimeInterval(delay).timeIntervalSince(now)
                text += left > 0 ? ", next in \(ForwardsScreen.duration(left.rounded(.up)))" : ", trying"
            }
        }
        if let reason = state.reason { text += ": \(reason)" }
        if state.status == "running", !state.failingPods.isEmpty {
            text += ", \(state.failingPods.count) pod\(state.failingPods.count == 1 ? "" : "s") failing its probe"
        }
        return text
    }
}
