import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The HTTPS listener of the API server, which can be stopped and started again on the same port
/// (fault injection: what an apiserver restart looks like to its clients).
///
/// It asks for a client certificate but does not require one (Go's `VerifyClientCertIfGiven`,
/// what kube-apiserver uses): a presented certificate must chain to the cluster CA or the
/// handshake fails.
final class APIListener: Sendable {
    private struct State {
        var server: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var port: Int
    }

    private let host: String
    private let tls: NIOSSLContext
    private let api: ClusterAPI
    private let authenticator: Authenticator
    private let hooks: ServerHooks
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<State>

    init(
        host: String, port: Int, tls: NIOSSLContext, api: ClusterAPI, authenticator: Authenticator, hooks: ServerHooks,
        group: any EventLoopGroup, logger: Logger
    ) {
        self.host = host
        self.tls = tls
        self.api = api
        self.authenticator = authenticator
        self.hooks = hooks
        self.group = group
        self.logger = logger
        self.state = Mutex(State(port: port))
    }

    /// The bound port (the requested one until the first start).
    var port: Int { self.state.withLock { $0.port } }

    /// Binds the port (the same one again after a stop).
    func start() async throws {
        let server = try await ServerBootstrap(group: self.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    self.track(channel)
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: self.tls))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        APIHTTPHandler(api: self.api, authenticator: self.authenticator, hooks: self.hooks, logger: self.logger)
                    )
                }
            }
            .bind(host: self.host, port: self.port).get()
        self.state.withLock { state in
            state.server = server
            state.port = server.localAddress?.port ?? state.port
        }
    }

    /// Closes the listening socket and every open connection, as a dying process would.
    func stop() async {
        let (server, connections) = self.state.withLock { state in
            defer {
                state.server = nil
                state.connections = [:]
            }
            return (state.server, Array(state.connections.values))
        }
        try? await server?.close()
        for connection in connections { try? await connection.close() }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        self.state.withLock { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = self.state.withLock { $0.connections.removeValue(forKey: id) }
        }
    }
}
