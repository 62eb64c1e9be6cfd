import KubeLabels
import RelayProtocol

/// What a forward points at, in kubectl's resource/name syntax or as a label selector.
public enum ForwardTarget: Sendable, Hashable, CustomStringConvertible {
    /// One pod; when it is gone the forward ends (kubectl's meaning).
    case pod(String)
    /// A Service: its ready endpoints, its port mapping (`targetPort` may be a name).
    case service(String)
    /// A Deployment's pods, by its selector.
    case deployment(String)
    /// Pods matching a label selector (kftray's `workload_type: pod` with `target`).
    case selector(String)
    /// Any address the cluster can reach, a host name resolved inside the cluster or an IP
    /// address (`host/db.internal`, `ip/10.0.0.5`; kftray's `workload_type: proxy`), reached
    /// through kfwd's relay.
    case address(String)

    public init(parsing text: String) throws(ForwardError) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            if parts.count == 1, !parts[0].isEmpty { self = .pod(parts[0]); return }
            throw ForwardError(code: .invalidSpec, "'\(text)' is not a target: write pod/NAME, svc/NAME, deploy/NAME, host/NAME or ip/ADDRESS, or use -l SELECTOR")
        }
        guard !parts[1].isEmpty else { throw ForwardError(code: .invalidSpec, "'\(text)' has no name after the '/'") }
        switch parts[0].lowercased() {
        case "pod", "pods", "po": self = .pod(parts[1])
        case "svc", "service", "services": self = .service(parts[1])
        case "deploy", "deployment", "deployments": self = .deployment(parts[1])
        case "host", "ip":
            do {
                self = .address(try RelayTarget(host: parts[1], port: 1).host)
            } catch {
                throw ForwardError(code: .invalidSpec, "'\(text)': '\(parts[1])' is not an IP address or a DNS name")
            }
        default: throw ForwardError(code: .invalidSpec, "'\(parts[0])' in '\(text)' is not a kind kfwd forwards to: use pod/, svc/, deploy/, host/ or ip/")
        }
    }

    /// A `-l` selector, checked against the apiserver's selector grammar.
    public static func selector(validating text: String) throws(ForwardError) -> ForwardTarget {
        _ = try self.labelSelector(text)
        return .selector(text)
    }

    static func labelSelector(_ text: String) throws(ForwardError) -> LabelSelector {
        do { return try LabelSelector(parsing: text) } catch { throw ForwardError(code: .invalidSpec, "label selector '\(text)': \(error.message)") }
    }

    /// Refuses pairs the target cannot serve: a named remote port is looked up in a Service or
    /// a pod's spec, and an address has neither.
    public func check(_ mappings: [PortMapping]) throws(ForwardError) {
        guard case .address = self, let named = mappings.first(where: { $0.remote.number == nil }) else { return }
        throw ForwardError(code: .invalidSpec, "port '\(named.remote)' is a name, and \(self) has no named ports: give the remote port's number, e.g. 8080:80")
    }

    /// Whether the target is reached through kfwd's relay, not a pod's port-forward.
    public var needsRelay: Bool {
        if case .address = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .pod(let name): "pod/\(name)"
        case .service(let name): "svc/\(name)"
        case .deployment(let name): "deploy/\(name)"
        case .selector(let selector): "pods -l \(selector)"
        case .address(let host): host.contains(":") ? "ip/\(host)" : (host.allSatisfy { $0.isNumber || $0 == "." } ? "ip/\(host)" : "host/\(host)")
        }
    }
}
