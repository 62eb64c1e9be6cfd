import NIOCore
import RelayProtocol

/// On the inner end of a relay's presence stream: checks the status byte and then only keeps
/// the stream open (a presence stream carries nothing). A refusal closes it, which the relay
/// pool takes as a relay to check.
final class PresenceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var statusRead = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        guard !self.statusRead, let byte = bytes.readInteger(as: UInt8.self) else { return }
        self.statusRead = true
        if RelayStatus(byte: byte) != .ok { context.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
