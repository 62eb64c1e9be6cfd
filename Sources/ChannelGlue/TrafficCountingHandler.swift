import NIOCore

/// First in a local connection's pipeline: what it reads goes to the cluster, what is
/// written to it came from the cluster, whatever transport carries it. (The relay counts its
/// flows with it too: what kfwd sends is bound for the cluster's target.)
public final class TrafficCountingHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let counter: TrafficCounter

    public init(counter: TrafficCounter) {
        self.counter = counter
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.counter.countToCluster(self.unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.counter.countFromCluster(self.unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }
}

/// The same for a local UDP socket: datagrams' payload bytes.
public final class DatagramCountingHandler: ChannelDuplexHandler {
    public typealias InboundIn = AddressedEnvelope<ByteBuffer>
    public typealias InboundOut = AddressedEnvelope<ByteBuffer>
    public typealias OutboundIn = AddressedEnvelope<ByteBuffer>
    public typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let counter: TrafficCounter

    public init(counter: TrafficCounter) {
        self.counter = counter
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.counter.countToCluster(self.unwrapInboundIn(data).data.readableBytes)
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.counter.countFromCluster(self.unwrapOutboundIn(data).data.readableBytes)
        context.write(data, promise: promise)
    }
}
