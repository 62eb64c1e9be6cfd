import NIOCore

/// Put in front of a connection's pipeline to make it go silent: nothing it receives is read
/// and nothing written reaches the wire, while the TCP connection stays open. What a VPN that
/// drops, or a laptop that sleeps, looks like from the other end.
final class SilentHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelReadComplete(context: ChannelHandlerContext) {}

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        promise?.succeed()
    }

    func flush(context: ChannelHandlerContext) {}
}
