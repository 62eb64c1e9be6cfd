import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTPS listener of the API server. It asks for a client certificate but does not require
/// one (Go's `VerifyClientCertIfGiven`, what kube-apiserver uses): a presented certificate must
/// chain to the cluster CA or the handshake fails.
enum APIServer {
    static func bind(
        host: String, port: Int, tls: NIOSSLContext, api: ClusterAPI, authenticator: Authenticator, hooks: ServerHooks,
        group: any EventLoopGroup, logger: Logger
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        APIHTTPHandler(api: api, authenticator: authenticator, hooks: hooks, logger: logger)
                    )
                }
            }
            .bind(host: host, port: port).get()
    }
}
