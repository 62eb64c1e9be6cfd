import KubeClient
import NIOCore
import RelayProtocol

/// On a local TCP connection spliced to a relay stream: takes the relay's status byte off the
/// front of what the stream writes to the connection. On `ok` it passes the rest on and leaves;
/// on anything else it closes the connection and reports why.
final class RelayStatusHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let refused: (RelayStatus) -> Void
    private var decided = false

    init(refused: @escaping (RelayStatus) -> Void) {
        self.refused = refused
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !self.decided else {
            context.write(data, promise: promise)
            return
        }
        var bytes = self.unwrapOutboundIn(data)
        guard let byte = bytes.readInteger(as: UInt8.self) else {
            // An empty write (a flush marker of the splice) carries no status yet.
            context.write(data, promise: promise)
            return
        }
        self.decided = true
        let status = RelayStatus(byte: byte)
        guard status == .ok else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            self.refused(status)
            context.close(promise: nil)
            return
        }
        context.write(self.wrapOutboundOut(bytes), promise: promise)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
