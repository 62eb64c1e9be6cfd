import NIOCore

/// First on every accepted local connection: holds what arrives before anything asked to read.
///
/// Auto-read is off until a stream is spliced, but a peer that sends and half-closes at once
/// (`printf … | nc`, a client's shutdown(SHUT_WR)) makes NIO read anyway: on the end-of-input
/// notification it reads everything up to the EOF, whatever auto-read says. Without this
/// handler those bytes and the end of input would pass through an unfinished pipeline and be
/// lost. They are passed on at the first `read()` (the splice asks for one once it is in
/// place), and the handler becomes transparent.
final class HeldInputHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private var held: [ByteBuffer] = []
    private var inputClosed = false
    private var released = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.released {
            context.fireChannelRead(data)
        } else {
            self.held.append(self.unwrapInboundIn(data))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.released { context.fireChannelReadComplete() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !self.released, case ChannelEvent.inputClosed = event {
            self.inputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        guard !self.released else {
            context.read()
            return
        }
        self.released = true
        let held = self.held
        self.held = []
        for buffer in held { context.fireChannelRead(self.wrapInboundOut(buffer)) }
        if !held.isEmpty { context.fireChannelReadComplete() }
        if self.inputClosed {
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        } else {
            context.read()
        }
    }
}
