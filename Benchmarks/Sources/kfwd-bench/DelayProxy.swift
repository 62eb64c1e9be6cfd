import NIOCore
import NIOPosix

/// A TCP proxy in front of KubeSim's API port that holds every chunk for `delay` each way: the
/// API server as seen from a laptop, a round trip of twice `delay` away (netem is not in every
/// kernel). TLS passes through untouched; order is kept (scheduled tasks with later deadlines
/// run later); a side whose peer cannot take more stops reading until it can.
///
/// In the kubectl benchmark with `BENCH_API_DELAY_MS`, or on its own:
/// `kfwd-bench delay-proxy LISTEN_PORT TARGET_PORT DELAY_MS`.
enum DelayProxy {
    /// Listens on loopback `port` (0: a free one) and returns the listening channel, which
    /// closes with the process.
    static func start(port: Int = 0, target: SocketAddress, delay: TimeAmount) async throws -> any Channel {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { client in
                ClientBootstrap(group: client.eventLoop)
                    .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .channelOption(.autoRead, value: false)
                    .connect(to: target)
                    .flatMapThrowing { server in
                        let toServer = Side(peer: server, delay: delay)
                        let toClient = Side(peer: client, delay: delay)
                        try client.pipeline.syncOperations.addHandler(toServer)
                        try server.pipeline.syncOperations.addHandler(toClient)
                        toServer.partner = toClient
                        toClient.partner = toServer
                    }
            }
            .bind(host: "127.0.0.1", port: port).get()
        return server
    }

    /// `delay-proxy LISTEN_PORT TARGET_PORT DELAY_MS`: runs until killed.
    static func run(_ arguments: [String]) async throws {
        guard arguments.count == 3, let listen = Int(arguments[0]), let target = Int(arguments[1]), let milliseconds = Double(arguments[2]) else {
            Swift.print("usage: kfwd-bench delay-proxy LISTEN_PORT TARGET_PORT DELAY_MS")
            return
        }
        let server = try await Self.start(
            port: listen, target: try SocketAddress(ipAddress: "127.0.0.1", port: target), delay: .microseconds(Int64(milliseconds * 1000))
        )
        try await server.closeFuture.get()
    }

    /// Reads one side and writes what it read to `peer`, `delay` later.
    private final class Side: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        let peer: any Channel
        let delay: TimeAmount
        /// The handler on `peer`, told when `peer` can take more again.
        var partner: Side?
        private var context: ChannelHandlerContext?
        private var held = false

        init(peer: any Channel, delay: TimeAmount) {
            self.peer = peer
            self.delay = delay
        }

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
            // The server side is connected already; the client side reads once registered.
            if context.channel.isActive { context.read() }
        }

        func channelActive(context: ChannelHandlerContext) {
            context.read()
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = self.unwrapInboundIn(data)
            let peer = self.peer
            context.eventLoop.assumeIsolated().scheduleTask(in: self.delay) { peer.writeAndFlush(bytes, promise: nil) }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if self.peer.isWritable { context.read() } else { self.held = true }
        }

        /// This side's channel can take more: its partner reads again.
        func channelWritabilityChanged(context: ChannelHandlerContext) {
            if context.channel.isWritable { self.partner?.resume() }
            context.fireChannelWritabilityChanged()
        }

        func resume() {
            guard self.held, let context else { return }
            self.held = false
            context.read()
        }

        func channelInactive(context: ChannelHandlerContext) {
            let peer = self.peer
            context.eventLoop.assumeIsolated().scheduleTask(in: self.delay) { peer.close(promise: nil) }
            self.partner = nil
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
