import NIOCore

/// Sits between a stream and its glue and keeps a copy of what the local connection sent until
/// the pod answers. When the stream then ends because the runtime could not dial the pod (so
/// the pod never saw those bytes), it keeps the local connection open and not reading, and holds
/// the bytes for a retry on another pod. Past ``limit`` bytes without an answer it stops keeping
/// them: such a connection is not retried.
final class ReplayGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let limit = 256 << 10

    private var kept: ByteBuffer? = ByteBuffer()
    private let local: any Channel
    private let failure: () -> PortForwardError?
    /// Set when the stream ended in a way another pod can make good.
    private(set) var retry: (error: PortForwardError, replay: ByteBuffer)?

    init(local: any Channel, failure: @escaping () -> PortForwardError?) {
        self.local = local
        self.failure = failure
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if var kept = self.kept {
            var bytes = self.unwrapOutboundIn(data)
            if kept.readableBytes + bytes.readableBytes > Self.limit {
                self.kept = nil
            } else {
                kept.writeBuffer(&bytes)
                self.kept = kept
            }
        }
        context.write(data, promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.kept = nil
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let kept = self.kept, let failure = self.failure(), failure.backendNeverSawData {
            // Not passed on: the glue would close the local connection with it.
            self.retry = (failure, kept)
            _ = self.local.setOption(.autoRead, value: false)
            return
        }
        context.fireChannelInactive()
    }
}
