import NIOCore

/// The pod side of one forwarded port: the connection a kubelet opens to the container port. It
/// hands what the pod sends, its end, and its writability to the ``WebSocketPortForwardHandler``
/// that owns it (both live on the same event loop).
final class BackendRelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let owner: NIOLoopBound<WebSocketPortForwardHandler>
    private let index: Int

    init(owner: NIOLoopBound<WebSocketPortForwardHandler>, index: Int) {
        self.owner = owner
        self.index = index
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
