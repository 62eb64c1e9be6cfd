import NIOCore

/// Counts a TCP flow's bytes for its log line.
final class FlowCountingHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let log: FlowLog

    init(log: FlowLog) {
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.log.bytesIn += self.unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.log.bytesOut += self.unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
    }
}
