import ChannelGlue
import NIOCore
import NIOPosix

/// What owns the pod-side connections of one port-forward: the WebSocket or SPDY handler of the
/// client's connection, on the same event loop.
protocol BackendRelayOwner: AnyObject {
    func backendRead(_ index: Int, _ buffer: ByteBuffer)
    func backendClosed(_ index: Int)
    func backendWritabilityChanged()
}

/// The pod side of one forwarded connection: the connection a kubelet opens to the container
/// port. It hands what the pod sends, its end, and its writability to its owner.
final class BackendRelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let owner: NIOLoopBound<any BackendRelayOwner>
    private let index: Int

    private init(owner: NIOLoopBound<any BackendRelayOwner>, index: Int) {
        self.owner = owner
        self.index = index
    }

    /// Dials the pod's port for `owner`'s connection number `index`, as the runtime does for
    /// each forwarded connection.
    static func dial(_ endpoint: BackendEndpoint, owner: NIOLoopBound<any BackendRelayOwner>, index: Int) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: owner.eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(BackendRelayHandler(owner: owner, index: index))
                }
            }
            .connect(literalOrHost: endpoint.host, port: endpoint.port)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.owner.value.backendRead(self.index, self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.owner.value.backendClosed(self.index)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.owner.value.backendWritabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
