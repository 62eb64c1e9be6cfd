import NIOCore

/// On a local connection spliced to a ``SPDYStreamPair``: its reads go to the pod as DATA
/// frames (asked for only while the session can send), its end of input becomes a FIN, its
/// close a reset, and its writability releases a session stalled on it.
final class SPDYLocalHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private let pair: SPDYStreamPair

    init(pair: SPDYStreamPair) {
        self.pair = pair
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.pair.handlerAdded(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.pair.localRead(self.unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.pair.localReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { self.pair.localInputClosed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pair.localClosed()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.pair.localWritable() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        self.pair.localWantsRead(context)
    }
}
