import KubeClient

/// Everything needed to run one forward, whatever it came from (the CLI, a kftray file, the
/// store): what the ``Supervisor`` runs.
public struct ForwardSpec: Sendable, Hashable {
    /// The forward's name, unique within a supervisor.
    public var alias: String
    /// Kubeconfig files, `:`-separated and merged as `$KUBECONFIG` is; nil for the default
    /// (`$KUBECONFIG`, else `~/.kube/config`).
    public var kubeconfig: String?
    /// The context; nil for the kubeconfig's current context.
    public var context: String?
    /// The namespace; nil for the context's (else `default`).
    public var namespace: String?
    public var target: ForwardTarget
    public var mappings: [PortMapping]
    public var addresses: ListenAddresses
    /// How long a new connection waits for a ready pod.
    public var podWait: Duration
    /// One pod for every new connection while it stays ready.
    public var sticky: Bool
    /// Keep streams open ahead so that new connections skip the handshake and upgrade
    /// (``ResilientForward/warmStreams`` says what that costs).
    public var warmStreams: Bool
    /// The port-forward protocol, negotiated or forced.
    public var transport: PortForwardTransportKind
    /// UDP (through kfwd's relay) rather than TCP.
    public var udp: Bool
    /// How each pod in use is checked through the tunnel, and how often (zero: never).
    public var probe: ProbeSpec
    public var probeInterval: Duration

    public init(
        alias: String, kubeconfig: String? = nil, context: String? = nil, namespace: String? = nil, target: ForwardTarget,
        mappings: [PortMapping], addresses: ListenAddresses = .localhost, podWait: Duration = .seconds(30), sticky: Bool = false,
        warmStreams: Bool = false, transport: PortForwardTransportKind = .auto, udp: Bool = false, probe: ProbeSpec = .connect,
        probeInterval: Duration = .seconds(10)
    ) {
        self.alias = alias
        self.kubeconfig = kubeconfig
        self.context = context
        self.namespace = namespace
        self.target = target
        self.mappings = mappings
        self.addresses = addresses
        self.podWait = podWait
        self.sticky = sticky
        self.warmStreams = warmStreams
        self.transport = transport
        self.udp = udp
        self.probe = probe
        self.probeInterval = probeInterval
    }

    /// Where the forward's context comes from, followed while it runs.
    public var kubeconfigSource: KubeconfigSource {
        var loader = KubeconfigLoader()
        if let kubeconfig = self.kubeconfig {
            if kubeconfig.contains(":") {
                loader.environment["KUBECONFIG"] = kubeconfig
            } else {
                loader.explicitPath = kubeconfig
            }
        }
        return KubeconfigSource(loader: loader, context: self.context, namespace: self.namespace)
    }
}
