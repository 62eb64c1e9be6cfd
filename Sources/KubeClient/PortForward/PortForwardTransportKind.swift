/// Which protocol carries port-forward streams: `auto` (the default) negotiates as kubectl
/// does, or one is forced (`--transport`, or a config's `transport` field).
public enum PortForwardTransportKind: String, Sendable, Hashable, CaseIterable {
    /// The tunnel, then plain SPDY when the tunnel upgrade is refused, then WebSocket v4.
    case auto
    /// SPDY/3.1 tunnelled in a WebSocket (kubectl ≥ 1.31's default).
    case tunnel
    /// Plain SPDY/3.1 (kubectl ≤ 1.30).
    case spdy
    /// WebSocket `v4.channel.k8s.io`, one WebSocket per connection (kube-rs, kftray, Python).
    case websocket

    /// Parses a user's value.
    /// - Throws: a message naming the value and the choices.
    public init(parsing text: String) throws(KubeError) {
        guard let kind = PortForwardTransportKind(rawValue: text.lowercased()) else {
            throw KubeError.config("unknown transport '\(text)': use auto, tunnel, spdy or websocket")
        }
        self = kind
    }

    /// The transport of this kind for `client`. `negotiated` hears, once, which protocol `auto`
    /// settled on (a forced kind reports itself on first use); `heldBack` hears of local readers
    /// that hold a pod's SPDY session back (see ``SPDYPortForwardTransport/init(client:mode:heldBack:)``);
    /// `network` hears the client's ``NetworkNotice``s until the transport shuts down.
    public func transport(
        client: KubeClient, negotiated: @escaping @Sendable (String) -> Void = { _ in },
        heldBack: @escaping @Sendable (_ pod: String) -> Void = { _ in }, network: @escaping @Sendable (NetworkNotice) -> Void = { _ in }
    ) -> any PortForwardTransport {
        switch self {
        case .auto:
            return AutoPortForwardTransport(
                candidates: [
                    SPDYPortForwardTransport(client: client, mode: .tunnel, heldBack: heldBack),
                    SPDYPortForwardTransport(client: client, mode: .spdy, heldBack: heldBack),
                    WebSocketPortForwardTransport(client: client),
                ],
                client: client, negotiated: negotiated, network: network
            )
        case .tunnel:
            return AutoPortForwardTransport(candidates: [SPDYPortForwardTransport(client: client, mode: .tunnel, heldBack: heldBack)], client: client, negotiated: negotiated, network: network)
        case .spdy:
            return AutoPortForwardTransport(candidates: [SPDYPortForwardTransport(client: client, mode: .spdy, heldBack: heldBack)], client: client, negotiated: negotiated, network: network)
        case .websocket:
            return AutoPortForwardTransport(candidates: [WebSocketPortForwardTransport(client: client)], client: client, negotiated: negotiated, network: network)
        }
    }
}
