import ControlAPI
import ConfigStore
import Forwarding

/// One row of the dashboard: a saved forward as the user wrote it and what it is doing now.
struct DashboardForward: Codable, Sendable, Equatable {
    var alias: String
    /// The context by name (a forward saved without one: its kubeconfig's current context):
    /// the dashboard groups by it.
    var context: String
    var namespace: String
    /// `svc/web`, `pods -l app=web`, `host/db.internal`; the problem when kfwd cannot run it.
    var target: String
    /// `8080:80`.
    var ports: String
    var `protocol`: String
    var autoStart: Bool
    /// The saved config, for the edit form.
    var config: KftrayConfig
    var state: StatusReport.Forward

    enum CodingKeys: String, CodingKey {
        case alias, context, namespace, target, ports, `protocol`, config, state
        case autoStart = "auto_start"
    }

    init(_ forward: StoredForward, state: StatusReport.Forward, contexts: ContextNames) {
        let config = forward.config
        self.alias = forward.alias
        var spec: ForwardSpec?
        do throws(ForwardError) {
            spec = try forward.native().forwardSpec(alias: forward.alias)
            self.target = spec?.target.description ?? ""
        } catch {
            self.target = "cannot run: \(error.message)"
        }
        self.namespace = spec?.namespace ?? config.namespace ?? ""
        self.context = contexts.name(of: spec, kftray: config)
        self.ports =
            spec?.mappings.map(\.description).joined(separator: ", ")
            ?? "\(config.localPort.map(String.init) ?? "?"):\(config.remotePort.map(String.init) ?? "?")"
        self.protocol = spec.map { $0.udp ? "udp" : "tcp" } ?? config.protocol ?? "tcp"
        self.autoStart = forward.autoStart
        self.config = config
        self.state = state
    }
}

/// What the dashboard shows at once, sent whole on every change (a few rows per forward;
/// the page redraws from it).
struct DashboardSnapshot: Codable, Sendable, Equatable {
    var daemonPID: Int32?
    var forwards: [DashboardForward]

    enum CodingKeys: String, CodingKey {
        case forwards
        case daemonPID = "daemon_pid"
    }
}
