import Forwarding
import KubeClient

extension ForwardConfig {
    /// A kftray entry with kftray's meaning for every field (section 1 of kftray.md): `service`
    /// entries forward to a Service (its `remote_port` may be the pods' target port), `pod`
    /// entries to the pods the `target` label selector matches, `proxy` entries to
    /// `remote_address` (a URL's host; `service` when it is empty) through the relay; a missing
    /// or `@current` context is the current one, a `default` kubeconfig the usual lookup.
    /// - Throws: ``ForwardError`` naming the field when kfwd cannot run the entry.
    public init(kftray config: KftrayConfig) throws(ForwardError) {
        guard let namespace = config.namespace, !namespace.isEmpty else {
            throw ForwardError(code: .invalidSpec, "field 'namespace' is required (kftray requires it too)")
        }
        let udp: Bool
        switch (config.protocol ?? "tcp").lowercased() {
        case "tcp": udp = false
        case "udp": udp = true
        case let other: throw ForwardError(code: .invalidSpec, "field 'protocol' is '\(other)': use tcp or udp")
        }
        var target: String?
        var selector: String?
        switch config.workloadType {
        case "service":
            guard let service = config.service, !service.isEmpty else {
                throw ForwardError(code: .invalidSpec, "workload_type 'service' needs the field 'service' (the Service's name)")
            }
            target = "svc/\(service)"
        case "pod":
            guard let labels = config.target, !labels.isEmpty else {
                throw ForwardError(code: .invalidSpec, "workload_type 'pod' needs the field 'target' (a label selector such as app=web)")
            }
            selector = labels
        case "proxy":
            let given = config.remoteAddress.flatMap { $0.isEmpty ? nil : $0 } ?? config.service
            guard let address = given.map(Self.host(of:)), !address.isEmpty else {
                throw ForwardError(code: .invalidSpec, "workload_type 'proxy' needs the field 'remote_address' (a host name or IP address the cluster can reach)")
            }
            do { target = try ForwardTarget(parsing: "host/\(address)").description } catch {
                throw ForwardError(code: .invalidSpec, "field 'remote_address': '\(address)' is not a host name or IP address")
            }
        case "expose":
            throw ForwardError(code: .invalidSpec, "workload_type 'expose' (a reverse tunnel) is not something kfwd does")
        case nil, "":
            throw ForwardError(code: .invalidSpec, "field 'workload_type' is required: service, pod or proxy")
        case let other?:
            throw ForwardError(code: .invalidSpec, "field 'workload_type' is '\(other)': use service, pod or proxy")
        }
        guard let remote = config.remotePort, (1...65535).contains(remote) else {
            throw ForwardError(code: .invalidSpec, "field 'remote_port' must be a port from 1 to 65535, not \(config.remotePort.map(String.init) ?? "missing")")
        }
        let local = config.localPort ?? 0
        guard (0...65535).contains(local) else {
            throw ForwardError(code: .invalidSpec, "field 'local_port' must be a port from 1 to 65535, or 0 for a free one, not \(local)")
        }
        if let address = config.localAddress {
            do { _ = try ListenAddresses(parsing: address, alias: config.effectiveAlias) } catch {
                throw ForwardError(code: .invalidSpec, "field 'local_address': \(error.message.replacingOccurrences(of: "--address ", with: ""))")
            }
        }
        if let transport = config.transport {
            do { _ = try PortForwardTransportKind(parsing: transport) } catch {
                throw ForwardError(code: .invalidSpec, "field 'transport': \(error.message)")
            }
        }
        self.init(
            target: target, selector: selector, ports: ["\(local):\(remote)"], namespace: namespace, context: config.namedContext,
            kubeconfig: config.kubeconfig, address: config.localAddress, udp: udp, transport: config.transport
        )
    }

    /// The kftray entry for this forward, for `kfwd export` and the dashboard's form; nil when
    /// kftray's format cannot hold it (a Deployment, one pod by name, several ports, or settings
    /// kftray has no field for: sticky, pod wait, warm streams, tags, a named remote port).
    public func kftray(alias: String) -> KftrayConfig? {
        guard self.ports.count == 1, let mapping = try? PortMapping(parsing: self.ports[0]),
            let remote = mapping.remote.number, !self.sticky, self.podWaitSeconds == nil,
            !self.warmStreams, self.tags.isEmpty, let namespace = self.namespace
        else { return nil }
        var config = KftrayConfig()
        if let selector = self.selector {
            config.workloadType = "pod"
            config.target = selector
        } else {
            switch try? ForwardTarget(parsing: self.target ?? "") {
            case .service(let name)?:
                config.workloadType = "service"
                config.service = name
            case .address(let host)?:
                config.workloadType = "proxy"
                config.remoteAddress = host
            default:
                return nil
            }
        }
        config.alias = alias
        config.namespace = namespace
        config.context = self.context
        config.kubeconfig = self.kubeconfig
        config.localPort = mapping.local
        config.remotePort = remote
        config.protocol = self.udp ? "udp" : "tcp"
        config.localAddress = self.address
        config.transport = self.transport
        return config
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
}

extension KftrayConfig {
    /// The forward this entry describes (``ForwardConfig/init(kftray:)``), checked as every
    /// forward is.
    public func forwardSpec(podWait: Duration, transport: String = "auto") throws(ForwardError) -> ForwardSpec {
        try ForwardConfig(kftray: self).forwardSpec(alias: self.effectiveAlias, podWait: podWait, transport: transport)
    }

    /// Why kfwd cannot run this entry, per field; empty when it can. kftray's own limits on
    /// fields kfwd reads but does not act on are checked too, so that an export kftray would
    /// refuse is refused here first.
    public var problems: [String] {
        var problems: [String] = []
        do throws(ForwardError) { _ = try self.forwardSpec(podWait: .seconds(30)) } catch { problems.append(error.message) }
        if let size = self.httpLogsMaxFileSize, !(1...(100 << 20)).contains(size) {
            problems.append("field 'http_logs_max_file_size' must be from 1 byte to 100 MiB, not \(size)")
        }
        if let days = self.httpLogsRetentionDays, !(1...365).contains(days) {
            problems.append("field 'http_logs_retention_days' must be from 1 to 365, not \(days)")
        }
        return problems
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
