import NIOCore

/// Joins two channels on one event loop: what one reads, the other writes. A channel only reads
/// while its partner can take more (backpressure), an end of input becomes a half-close on the
/// other side, and a close on either side closes both.
package final class GlueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    /// A read was asked for while the partner could not take more.
    private var pendingRead = false

    private init() {}

    package static func pair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    // MARK: calls from the partner

    private func partnerWrite(_ data: NIOAny) {
        self.context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        self.context?.flush()
    }

    private func partnerEndedInput() {
        self.context?.close(mode: .output, promise: nil)
    }

    /// Closes once everything the partner passed on is written (its last bytes may still be
    /// unflushed when its close arrives in the same read), or after ``drainLimit`` when this
    /// side's peer stopped reading and the writes can never complete.
    private func partnerClosed() {
        guard let context = self.context else { return }
        let channel = context.channel
        let limit = context.eventLoop.scheduleTask(in: Self.drainLimit) { channel.close(promise: nil) }
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).whenComplete { _ in
            limit.cancel()
            channel.close(promise: nil)
        }
    }

    package static let drainLimit: TimeAmount = .seconds(2)

    private func partnerBecameWritable() {
        if self.pendingRead {
            self.pendingRead = false
            self.context?.read()
        }
    }

    private var isWritable: Bool { self.context?.channel.isWritable ?? false }

    // MARK: events of this channel

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.partner?.partnerWrite(data)
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        self.partner?.partnerFlush()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        self.partner?.partnerClosed()
        context.fireChannelInactive()
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            self.partner?.partnerEndedInput()
        }
        context.fireUserInboundEventTriggered(event)
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    package func read(context: ChannelHandlerContext) {
        if self.partner?.isWritable ?? false {
            context.read()
        } else {
            self.pendingRead = true
        }
    }
}
