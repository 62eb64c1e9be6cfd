import ConfigStore
import Forwarding
import KubeClient

extension KftrayConfig {
    /// The forward this entry describes, with kftray's meaning for every field (section 1 of
    /// kftray.md): a `service` entry's `remote_port` may be the pods' target port, `pod`
    /// entries select pods by the `target` label selector, a missing or `@current` context is
    /// the current one, `default` kubeconfig is the usual lookup.
    /// - Parameters:
    ///   - podWait: how long a new connection waits for a ready pod.
    ///   - transport: the protocol when the entry names none (the `transport` setting).
    /// - Throws: ``ForwardError`` naming the field when kfwd cannot run the entry.
    public func forwardSpec(podWait: Duration, transport defaultTransport: String = "auto") throws(ForwardError) -> ForwardSpec {
        guard let namespace = self.namespace, !namespace.isEmpty else {
            throw ForwardError(code: .invalidSpec, "field 'namespace' is required (kftray requires it too)")
        }
        let udp: Bool
        switch (self.protocol ?? "tcp").lowercased() {
        case "tcp": udp = false
        case "udp": udp = true
        case let other: throw ForwardError(code: .invalidSpec, "field 'protocol' is '\(other)': use tcp or udp")
        }
        let target: ForwardTarget
        switch self.workloadType {
        case "service":
            guard let service = self.service, !service.isEmpty else {
                throw ForwardError(code: .invalidSpec, "workload_type 'service' needs the field 'service' (the Service's name)")
            }
            target = .service(service)
        case "pod":
            guard let selector = self.target, !selector.isEmpty else {
                throw ForwardError(code: .invalidSpec, "workload_type 'pod' needs the field 'target' (a label selector such as app=web)")
            }
            target = try .selector(validating: selector)
        case "proxy":
            // kftray's relay dials `service` when `remote_address` is empty.
            let given = self.remoteAddress.flatMap { $0.isEmpty ? nil : $0 } ?? self.service
            guard let address = given.map(Self.host(of:)), !address.isEmpty else {
                throw ForwardError(code: .invalidSpec, "workload_type 'proxy' needs the field 'remote_address' (a host name or IP address the cluster can reach)")
            }
            do { target = try ForwardTarget(parsing: "host/\(address)") } catch {
                throw ForwardError(code: .invalidSpec, "field 'remote_address': '\(address)' is not a host name or IP address")
            }
        case "expose":
            throw ForwardError(code: .invalidSpec, "workload_type 'expose' (a reverse tunnel) is not something kfwd does; the entry is skipped")
        case nil:
            throw ForwardError(code: .invalidSpec, "field 'workload_type' is required: service or pod")
        case let other?:
            throw ForwardError(code: .invalidSpec, "field 'workload_type' is '\(other)': use service, pod or proxy")
        }
        guard let remote = self.remotePort, (1...65535).contains(remote) else {
            throw ForwardError(code: .invalidSpec, "field 'remote_port' must be a port from 1 to 65535, not \(self.remotePort.map(String.init) ?? "missing")")
        }
        let local = self.localPort ?? 0
        guard (0...65535).contains(local) else {
            throw ForwardError(code: .invalidSpec, "field 'local_port' must be a port from 1 to 65535, or 0 for a free one, not \(local)")
        }
        let addresses: ListenAddresses
        do { addresses = try ListenAddresses(parsing: self.localAddress ?? "127.0.0.1") } catch {
            throw ForwardError(code: .invalidSpec, "field 'local_address': \(error.message.replacingOccurrences(of: "--address ", with: ""))")
        }
        let transport: PortForwardTransportKind
        do { transport = try PortForwardTransportKind(parsing: self.transport ?? defaultTransport) } catch {
            throw ForwardError(code: .invalidSpec, "field 'transport': \(error.message)")
        }
        let kubeconfig = self.kubeconfig.flatMap { ["", "default"].contains($0) ? nil : $0 }
        return ForwardSpec(
            alias: self.effectiveAlias, kubeconfig: kubeconfig, context: self.namedContext, namespace: namespace, target: target,
            mappings: [PortMapping(local: local, remote: remote)], addresses: addresses, podWait: podWait, transport: transport, udp: udp
        )
    }

    /// kftray accepts a URL as `remote_address` and uses its host.
    private static func host(of address: String) -> String {
        guard let scheme = address.range(of: "://") else { return address }
        var rest = address[scheme.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { return String(rest[rest.index(after: rest.startIndex)..<close]) }
        if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
        return String(rest)
    }

    /// Settings kfwd reads but does not act on; the entry still runs.
    public var ignoredSettings: [String] {
        var ignored: [String] = []
        if self.domainEnabled == true { ignored.append("domain_enabled (kfwd does not write hosts-file entries)") }
        if self.autoLoopbackAddress == true { ignored.append("auto_loopback_address (kfwd listens on local_address)") }
        if self.httpLogsEnabled == true { ignored.append("http_logs_enabled (kfwd does not log HTTP traffic)") }
        return ignored
    }
}
