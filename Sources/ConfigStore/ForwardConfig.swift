import Forwarding
import KubeClient

/// A saved forward in kfwd's own terms: any target kfwd runs, several port pairs, and the
/// settings kftray's format has no field for. The store keeps it beside (or instead of) a
/// kftray entry; kftray's JSON stays the import and export format.
public struct ForwardConfig: Codable, Sendable, Equatable {
    /// `svc/NAME`, `deploy/NAME`, `pod/NAME`, `host/NAME` or `ip/ADDRESS`; nil with ``selector``.
    public var target: String?
    /// A label selector (`app=web`): the pods it matches.
    public var selector: String?
    /// `[LOCAL:]REMOTE` pairs, as `kfwd forward` takes them.
    public var ports: [String]
    /// Nil for the context's namespace.
    public var namespace: String?
    /// Nil for the kubeconfig's current context.
    public var context: String?
    /// Nil for `$KUBECONFIG`, else `~/.kube/config`.
    public var kubeconfig: String?
    /// Listen addresses, comma-separated (`127.0.0.1,::1`); nil for 127.0.0.1.
    public var address: String?
    public var udp: Bool
    public var sticky: Bool
    /// Seconds a new connection waits for a ready pod; nil for the `hold_seconds` setting.
    public var podWaitSeconds: Double?
    /// `auto`, `tunnel`, `spdy` or `websocket`; nil for the `transport` setting.
    public var transport: String?
    public var warmStreams: Bool
    /// Free labels to group and filter forwards by.
    public var tags: [String]
    /// How each pod in use is checked through the tunnel (`tcp`, `http:/PATH`, `postgres`,
    /// `redis`, `expect:SEND=EXPECT`); nil for `tcp`.
    public var probe: String?
    /// Seconds between probes (0: none); nil for 10.
    public var probeIntervalSeconds: Double?
    /// Names for the forward's listen address in the hosts file (`kfwd hosts apply`).
    public var hostnames: [String] = []
    /// The group that owns it (a repository's project file, handed to the daemon with
    /// `kfwd start --project`): replaced as a whole when the group is saved again.
    public var group: String?

    enum CodingKeys: String, CodingKey {
        case target, selector, ports, namespace, context, kubeconfig, address, udp, sticky, transport, tags, probe, hostnames, group
        case podWaitSeconds = "pod_wait_seconds"
        case probeIntervalSeconds = "probe_interval_seconds"
        case warmStreams = "warm_streams"
    }

    public init(
        target: String? = nil, selector: String? = nil, ports: [String], namespace: String? = nil, context: String? = nil,
        kubeconfig: String? = nil, address: String? = nil, udp: Bool = false, sticky: Bool = false, podWaitSeconds: Double? = nil,
        transport: String? = nil, warmStreams: Bool = false, tags: [String] = [], probe: String? = nil, probeIntervalSeconds: Double? = nil
    ) {
        self.target = target
        self.selector = selector
        self.ports = ports
        self.namespace = namespace
        self.context = context
        self.kubeconfig = kubeconfig
        self.address = address
        self.udp = udp
        self.sticky = sticky
        self.podWaitSeconds = podWaitSeconds
        self.transport = transport
        self.warmStreams = warmStreams
        self.tags = tags
        self.probe = probe
        self.probeIntervalSeconds = probeIntervalSeconds
    }

    /// Fields left out of a saved config take their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(ports: try container.decodeIfPresent([PortText].self, forKey: .ports)?.map(\.text) ?? [])
        self.target = try container.decodeIfPresent(String.self, forKey: .target)
        self.selector = try container.decodeIfPresent(String.self, forKey: .selector)
        self.namespace = try container.decodeIfPresent(String.self, forKey: .namespace)
        self.context = try container.decodeIfPresent(String.self, forKey: .context)
        self.kubeconfig = try container.decodeIfPresent(String.self, forKey: .kubeconfig)
        self.address = try container.decodeIfPresent(String.self, forKey: .address)
        self.udp = try container.decodeIfPresent(Bool.self, forKey: .udp) ?? false
        self.sticky = try container.decodeIfPresent(Bool.self, forKey: .sticky) ?? false
        self.podWaitSeconds = try container.decodeIfPresent(Double.self, forKey: .podWaitSeconds)
        self.transport = try container.decodeIfPresent(String.self, forKey: .transport)
        self.warmStreams = try container.decodeIfPresent(Bool.self, forKey: .warmStreams) ?? false
        self.tags = try container.decodeIfPresent([String].self, forKey: .tags) ?? []
        self.probe = try container.decodeIfPresent(String.self, forKey: .probe)
        self.probeIntervalSeconds = try container.decodeIfPresent(Double.self, forKey: .probeIntervalSeconds)
        self.hostnames = try container.decodeIfPresent([String].self, forKey: .hostnames) ?? []
        self.group = try container.decodeIfPresent(String.self, forKey: .group)
    }

    /// A port pair as a file writes it: `"8080:80"`, or a bare number in YAML (`5432`).
    private struct PortText: Decodable {
        let text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) { self.text = String(number) } else { self.text = try container.decode(String.self) }
        }
    }

    /// The forward this config describes: the one check of a forward, whatever it came from
    /// (`kfwd add`, a kftray import, the dashboard), before it is saved and when it runs.
    /// - Parameters:
    ///   - podWait: when the config sets none (the `hold_seconds` setting).
    ///   - transport: when the config names none (the `transport` setting).
    /// - Throws: ``ForwardError`` (``ForwardError/Code/invalidSpec``) naming what is wrong.
    public func forwardSpec(alias: String, podWait: Duration = .seconds(30), transport defaultTransport: String = "auto") throws(ForwardError) -> ForwardSpec {
        let target: ForwardTarget
        switch (self.target.flatMap { $0.isEmpty ? nil : $0 }, self.selector.flatMap { $0.isEmpty ? nil : $0 }) {
        case (let text?, nil): target = try ForwardTarget(parsing: text)
        case (nil, let selector?): target = try .selector(validating: selector)
        case (nil, nil): throw ForwardError(code: .invalidSpec, "no target: give svc/NAME, deploy/NAME, pod/NAME, host/NAME, ip/ADDRESS or a selector")
        case (_?, _?): throw ForwardError(code: .invalidSpec, "both a target and a selector: give one")
        }
        guard !self.ports.isEmpty else { throw ForwardError(code: .invalidSpec, "no port: give at least one, e.g. 8080:80") }
        var mappings: [PortMapping] = []
        for text in self.ports {
            let mapping = try PortMapping(parsing: text)
            if mapping.local != 0, mappings.contains(where: { $0.local == mapping.local }) {
                throw ForwardError(code: .invalidSpec, "local port \(mapping.local) is given twice: each pair needs its own local port")
            }
            mappings.append(mapping)
        }
        try target.check(mappings)
        var addresses = ListenAddresses.localhost
        if let address = self.address { addresses = try ListenAddresses(parsing: address, alias: alias) }
        let transport: PortForwardTransportKind
        do { transport = try PortForwardTransportKind(parsing: self.transport ?? defaultTransport) } catch {
            throw ForwardError(code: .invalidSpec, "transport: \(error.message)")
        }
        if let seconds = self.podWaitSeconds, !(seconds >= 0 && seconds.isFinite) {
            throw ForwardError(code: .invalidSpec, "pod wait \(seconds) must be 0 or more seconds")
        }
        let probe = try self.probe.map { text throws(ForwardError) in try ProbeSpec(parsing: text) } ?? .connect
        for name in self.hostnames where !Self.isHostname(name) {
            throw ForwardError(code: .invalidSpec, "hostname '\(name)' is not a DNS name: use lower-case letters, digits, hyphens and dots, e.g. web.shop.local")
        }
        if let seconds = self.probeIntervalSeconds, !(seconds >= 0 && seconds <= 3600) {
            throw ForwardError(code: .invalidSpec, "probe interval \(seconds) must be 0 (no probes) to 3600 seconds")
        }
        return ForwardSpec(
            alias: alias, kubeconfig: self.kubeconfig.flatMap { ["", "default"].contains($0) ? nil : $0 }, context: self.context,
            namespace: self.namespace, target: target, mappings: mappings, addresses: addresses,
            podWait: self.podWaitSeconds.map { .milliseconds(Int($0 * 1000)) } ?? podWait, sticky: self.sticky, warmStreams: self.warmStreams,
            transport: transport, udp: self.udp, probe: probe,
            probeInterval: self.probeIntervalSeconds.map { .milliseconds(Int($0 * 1000)) } ?? .seconds(10)
        )
    }

    private static func isHostname(_ name: String) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return name.count <= 253 && labels.allSatisfy { label in
            (1...63).contains(label.count) && label.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
                && label.first != "-" && label.last != "-"
        }
    }

    /// The listen address the hosts file names for this forward: its first IPv4 address (its
    /// own with `auto`), else its first.
    public func hostsAddress(alias: String) -> String {
        let addresses = (try? ListenAddresses(parsing: self.address ?? "localhost", alias: alias))?.addresses.map(\.host) ?? ["127.0.0.1"]
        let address = addresses.first { !$0.contains(":") } ?? addresses.first ?? "127.0.0.1"
        return address == "0.0.0.0" ? "127.0.0.1" : address
    }

    /// The target as `kfwd forward` names it (`svc/web`, `pods -l app=web`).
    public var targetDescription: String {
        if let selector = self.selector, !selector.isEmpty { return "pods -l \(selector)" }
        return self.target ?? "?"
    }
}
