import ConfigStore
import Forwarding

/// One saved forward as the dashboard and `kfwd tui` show it: what the user wrote and what it
/// is doing now.
public struct ForwardRow: Codable, Sendable, Equatable {
    public var alias: String
    /// The context by name (a forward saved without one: its kubeconfig's current context):
    /// the dashboard and the terminal UI group by it.
    public var context: String
    public var namespace: String
    /// `svc/web`, `pods -l app=web`, `host/db.internal`; the problem when kfwd cannot run it.
    public var target: String
    /// `8080:80`.
    public var ports: String
    public var `protocol`: String
    public var autoStart: Bool
    public var tags: [String]
    /// The saved kftray entry, for the dashboard's edit form.
    public var config: KftrayConfig
    /// What it runs in kfwd's own terms, for the terminal UI's edit form; nil for a kftray
    /// entry kfwd cannot run.
    public var native: ForwardConfig?
    public var state: StatusReport.Forward

    enum CodingKeys: String, CodingKey {
        case alias, context, namespace, target, ports, `protocol`, config, state, tags, native
        case autoStart = "auto_start"
    }

    /// - Parameter context: the context's name, resolved by the caller (it reads kubeconfigs).
    public init(_ forward: StoredForward, state: StatusReport.Forward, context: (ForwardSpec?) -> String) {
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
        self.context = context(spec)
        self.ports =
            spec?.mappings.map(\.description).joined(separator: ", ")
            ?? "\(config.localPort.map(String.init) ?? "?"):\(config.remotePort.map(String.init) ?? "?")"
        self.protocol = spec.map { $0.udp ? "udp" : "tcp" } ?? config.protocol ?? "tcp"
        self.autoStart = forward.autoStart
        self.tags = forward.tags
        self.config = config
        self.native = try? forward.native()
        self.state = state
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.alias = try container.decode(String.self, forKey: .alias)
        self.context = try container.decode(String.self, forKey: .context)
        self.namespace = try container.decode(String.self, forKey: .namespace)
        self.target = try container.decode(String.self, forKey: .target)
        self.ports = try container.decode(String.self, forKey: .ports)
        self.protocol = try container.decode(String.self, forKey: .protocol)
        self.autoStart = try container.decodeIfPresent(Bool.self, forKey: .autoStart) ?? false
        self.tags = try container.decodeIfPresent([String].self, forKey: .tags) ?? []
        self.config = try container.decode(KftrayConfig.self, forKey: .config)
        self.native = try container.decodeIfPresent(ForwardConfig.self, forKey: .native)
        self.state = try container.decode(StatusReport.Forward.self, forKey: .state)
    }
}
