import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import SPDY
import Synchronization

/// The HTTPS listener of the API server, which can be stopped and started again on the same port
/// (fault injection: what an apiserver restart looks like to its clients).
///
/// It asks for a client certificate but does not require one (Go's `VerifyClientCertIfGiven`,
/// what kube-apiserver uses): a presented certificate must chain to the cluster CA or the
/// handshake fails.
final class APIListener: Sendable {
    /// An open connection and the gate its bytes pass.
    private struct Gated {
        let channel: any Channel
        let gate: NIOLoopBound<ConnectionGate>
    }

    private struct State {
        var server: (any Channel)?
        var connections: [ObjectIdentifier: Gated] = [:]
        /// While a blackhole lasts, new connections start paused too.
        var blackholed = false
        var port: Int
        var spdyConnections = 0
        var heldBack: Set<Int> = []
        /// While stopped: a socket bound to the port and not listening, so that connections are
        /// refused, as by a server that is down, and nothing else on the machine takes the port.
        var placeholder: CInt?
    }

    private let host: String
    private let tls: NIOSSLContext
    private let api: ClusterAPI
    private let authenticator: Authenticator
    private let hooks: ServerHooks
    private let backends: PodBackends
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<State>
    /// The REST handler leaves the pipeline when a connection becomes a port-forward.
    private static let restHandlerName = "kubesim.rest"

    init(
        host: String, port: Int, tls: NIOSSLContext, api: ClusterAPI, authenticator: Authenticator, hooks: ServerHooks,
        backends: PodBackends, group: any EventLoopGroup, logger: Logger
    ) {
        self.backends = backends
        self.host = host
        self.tls = tls
        self.api = api
        self.authenticator = authenticator
        self.hooks = hooks
        self.group = group
        self.logger = logger
        self.state = Mutex(State(port: port))
    }

    /// SPDY port-forward sessions whose client has stopped reading what they send.
    var heldBackSessions: Int { self.state.withLock { $0.heldBack.count } }

    /// The bound port (the requested one until the first start).
    var port: Int { self.state.withLock { $0.port } }

    /// Binds the port (the same one again after a stop).
    func start() async throws {
        if let placeholder = self.state.withLock({ state in defer { state.placeholder = nil }; return state.placeholder }) {
            close(placeholder)
        }
        let server = try await ServerBootstrap(group: self.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(self.track(channel))
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: self.tls))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [self.portForwardUpgrader(), self.spdyUpgrader()], completionHandler: { _ in }),
                        withErrorHandling: true
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        APIHTTPHandler(api: self.api, authenticator: self.authenticator, hooks: self.hooks, logger: self.logger),
                        name: Self.restHandlerName
                    )
                }
            }
            .bind(host: self.host, port: self.port).get()
        self.state.withLock { state in
            state.server = server
            state.port = server.localAddress?.port ?? state.port
        }
    }

    /// Closes the listening socket and every open connection, as a dying process would; unless
    /// `holdingPort` is false, the port stays reserved for ``start()``.
    func stop(holdingPort: Bool = true) async {
        let (server, connections) = self.state.withLock { state in
            defer {
                state.server = nil
                state.connections = [:]
            }
            return (state.server, state.connections.values.map(\.channel))
        }
        try? await server?.close()
        let placeholder = holdingPort ? Self.holdPort(host: self.host, port: self.port) : nil
        let previous = self.state.withLock { state in
            defer { state.placeholder = placeholder }
            return state.placeholder
        }
        if let previous { close(previous) }
        for connection in connections { try? await connection.close() }
    }

    /// A socket bound to `host`:`port` that does not listen (nil when it cannot be bound).
    private static func holdPort(host: String, port: Int) -> CInt? {
        guard let address = try? SocketAddress(ipAddress: host, port: port) else { return nil }
        let descriptor = socket(address.protocol.rawValue, CInt(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        guard address.withSockAddr({ bind(descriptor, $0, socklen_t($1)) }) == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    /// Upgrades `pods/{name}/portforward` to a WebSocket when the request would succeed; any
    /// other request (or one that must fail) goes on to ``APIHTTPHandler``, which answers it or
    /// explains the refusal with the apiserver's status.
    private func portForwardUpgrader() -> NIOWebSocketServerUpgrader {
        // One upgrader per connection: what the handshake accepted is what the pipeline serves.
        let accepted = NIOLockedValueBox<PortForwardAcceptance?>(nil)
        return NIOWebSocketServerUpgrader(
            maxFrameSize: 32 << 20,
            automaticErrorHandling: true,
            shouldUpgrade: { [self] channel, head in
                let acceptance = self.acceptPortForward(channel: channel, head: head)
                accepted.withLockedValue { $0 = acceptance }
                return channel.eventLoop.makeSucceededFuture(acceptance.map { acceptance in
                    acceptance.echo.map { HTTPHeaders([("Sec-WebSocket-Protocol", $0)]) } ?? HTTPHeaders()
                })
            },
            upgradePipelineHandler: { [self] channel, _ in
                guard let acceptance = accepted.withLockedValue({ $0 }) else {
                    return channel.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
                }
                self.hooks.record(acceptance.request)
                self.logger.debug("request", metadata: ["kubesim.method": "GET", "kubesim.uri": "\(acceptance.request.path)", "kubesim.user": "\(acceptance.request.user.name)"])
                let backends = self.backends
                let uid = acceptance.target.uid
                let logger = self.logger
                return channel.pipeline.removeHandler(name: Self.restHandlerName).flatMapThrowing {
                    guard case .channels(let framing) = acceptance.protocol else {
                        try self.addSPDYSession(to: channel, acceptance.target, tunnel: .server)
                        return
                    }
                    try channel.pipeline.syncOperations.addHandler(WebSocketPortForwardHandler(
                        target: acceptance.target, framing: framing,
                        endpoint: { backends.endpoint(podUID: uid, port: $0) }, logger: logger
                    ))
                }
            }
        )
    }

    /// Upgrades a `POST pods/{name}/portforward` with `Upgrade: SPDY/3.1` (kubectl ≤ 1.30, and
    /// later ones when the tunnel is refused) unless the SPDY path is switched off.
    private func spdyUpgrader() -> SPDYServerUpgrader<PortForwardAcceptance> {
        SPDYServerUpgrader(
            accept: { [self] channel, head in
                guard self.hooks.portForwardSPDY, head.method == .POST else { return nil }
                return self.acceptPortForward(channel: channel, head: head)
            },
            upgradePipeline: { [self] channel, acceptance in
                self.hooks.record(acceptance.request)
                self.logger.debug("request", metadata: ["kubesim.method": "POST", "kubesim.uri": "\(acceptance.request.path)", "kubesim.user": "\(acceptance.request.user.name)"])
                try self.addSPDYSession(to: channel, acceptance.target, tunnel: nil)
                channel.pipeline.removeHandler(name: Self.restHandlerName, promise: nil)
            }
        )
    }

    /// The SPDY codec (behind the tunnel's adapter when tunnelled) and the kubelet's session.
    private func addSPDYSession(to channel: any Channel, _ target: PortForwardTarget, tunnel: WebSocketTunnelHandler.Role?) throws {
        let backends = self.backends
        let uid = target.uid
        let connectionID = self.state.withLock { state in
            state.spdyConnections += 1
            return state.spdyConnections
        }
        try channel.pipeline.syncOperations.addSPDYCodec(tunnel: tunnel)
        try channel.pipeline.syncOperations.addHandler(SPDYPortForwardHandler(
            target: target, connectionID: connectionID, endpoint: { backends.endpoint(podUID: uid, port: $0) },
            heldBack: { [self] held in
                self.state.withLock { state in
                    if held { state.heldBack.insert(connectionID) } else { state.heldBack.remove(connectionID) }
                }
                self.api.store.notifyObservers()
            },
            logger: self.logger
        ))
    }

    private struct PortForwardAcceptance: Sendable {
        let request: APIRequest
        let target: PortForwardTarget
        /// What the WebSocket carries (plain SPDY requests are `.spdyTunnel`'s bytes without one).
        let `protocol`: WebSocketPortForwardProtocol
        let echo: String?
    }

    /// A WebSocket (`GET`) or SPDY (`POST`, the apiserver checks it as `create`) port-forward
    /// request that would succeed: authenticated, for a running pod, with the ports where the
    /// protocol puts them and a subprotocol the server speaks.
    private func acceptPortForward(channel: any Channel, head: HTTPRequestHead) -> PortForwardAcceptance? {
        let isSPDY = head.method == .POST
        guard head.method == .GET || isSPDY else { return nil }
        let peer = try? channel.pipeline.syncOperations.nioSSL_peerCertificate()
        guard let user = self.authenticator.authenticate(authorization: head.headers.first(name: "Authorization"), peerCertificate: peer) else {
            return nil
        }
        let request = self.request(head, user: user, method: head.method.rawValue)
        // Refused here, the request goes on to the REST handler, which answers the 403.
        guard (try? self.api.authorize(request)) != nil else { return nil }
        let negotiated: (protocol: WebSocketPortForwardProtocol, echo: String?)
        if isSPDY {
            negotiated = (.spdyTunnel, nil)
        } else {
            let offered = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map(String.init)
            guard let accepted = WebSocketPortForwardProtocol.negotiate(offered, tunnel: self.hooks.portForwardTunnel) else { return nil }
            negotiated = accepted
        }
        let portsInQuery = negotiated.protocol != .spdyTunnel
        guard let path = try? ResourcePath(request.path), path.resource == .pods, path.subresource == "portforward",
            let name = path.name, let namespace = path.namespace,
            let target = try? self.api.portForwardTarget(namespace: namespace, pod: name, queryItems: request.queryItems, portsInQuery: portsInQuery)
        else { return nil }
        return PortForwardAcceptance(request: request, target: target, protocol: negotiated.protocol, echo: negotiated.echo)
    }

    private func request(_ head: HTTPRequestHead, user: UserInfo, method: String) -> APIRequest {
        APIRequest(method: method, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: Data(), user: user)
    }

    /// Silences every open connection for good (see ``ConnectionGate``); new ones are served
    /// as usual.
    func silenceConnections() {
        self.setGates(.silenced, blackholed: nil)
    }

    /// Pauses every connection, open and new, until ``endBlackhole()``.
    func blackhole() {
        self.setGates(.paused, blackholed: true)
    }

    /// Lets paused connections carry on, what they held delivered in order.
    func endBlackhole() {
        self.setGates(.open, blackholed: false)
    }

    private func setGates(_ mode: ConnectionGate.Mode, blackholed: Bool?) {
        let connections = self.state.withLock { state in
            if let blackholed { state.blackholed = blackholed }
            return Array(state.connections.values)
        }
        for connection in connections {
            connection.channel.eventLoop.execute {
                guard let context = try? connection.channel.pipeline.syncOperations.context(handlerType: ConnectionGate.self) else { return }
                connection.gate.value.set(mode, context: context)
            }
        }
    }

    /// Registers a new connection and returns the gate to put first in its pipeline.
    private func track(_ channel: any Channel) -> ConnectionGate {
        let id = ObjectIdentifier(channel)
        let gate = self.state.withLock { state in
            let gate = ConnectionGate(mode: state.blackholed ? .paused : .open)
            state.connections[id] = Gated(channel: channel, gate: NIOLoopBound(gate, eventLoop: channel.eventLoop))
            return gate
        }
        channel.closeFuture.whenComplete { [self] _ in
            _ = self.state.withLock { $0.connections.removeValue(forKey: id) }
        }
        return gate
    }
}
