import NIOCore
import RelayProtocol

/// On the inner end of a relay's presence stream: reports the relay's status byte to `answer`
/// (the first presence stream claims the relay) and then only keeps the stream open (a presence
/// stream carries nothing). A refusal closes it, which the relay pool takes as a relay to check.
final class PresenceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let relay: String
    private let answer: EventLoopPromise<Void>
    private var statusRead = false

    init(relay: String, answer: EventLoopPromise<Void>) {
        self.relay = relay
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        guard !self.statusRead, let byte = bytes.readInteger(as: UInt8.self) else { return }
        self.statusRead = true
        let status = RelayStatus(byte: byte)
        if status == .ok {
            self.answer.succeed()
            return
        }
        // Only the first answer counts: a refusal later (the relay restarted) is a lost relay.
        self.answer.fail(ForwardError(
            code: .relay,
            "relay pod \(self.relay) refused kfwd's presence stream (\(status)): another client claimed it first, or it is not kfwd's relay"
        ))
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
