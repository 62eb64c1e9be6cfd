import ChannelGlue
import NIOCore
import NIOPosix
import RelayProtocol

/// One UDP flow: a client's stream and a UDP socket connected to the target, on one event loop.
/// Datagrams go both ways independently (no reply is waited for); datagrams the target sends
/// while the client's stream cannot take more are dropped, as a full socket buffer drops them,
/// and a client sending faster than the target's socket drains stops being read.
enum DatagramFlow {
    /// Opens the UDP socket for `stream`'s flow.
    static func connect(to address: SocketAddress, stream: any Channel, log: NIOLoopBound<FlowLog>) -> EventLoopFuture<any Channel> {
        DatagramBootstrap(group: log.eventLoop)
            .readingWholeDatagrams()
            .channelInitializer { udp in
                udp.eventLoop.makeCompletedFuture {
                    let streamSide = StreamSide(udp: udp, target: address, log: log.value)
                    try udp.pipeline.syncOperations.addHandler(TargetSide(stream: stream, streamSide: streamSide, log: log.value))
                }
            }
            .connect(to: address)
    }

    /// The handler that goes on the client's stream once the UDP socket is open.
    static func streamSide(of udp: any Channel) throws -> StreamSide {
        try udp.pipeline.syncOperations.handler(type: TargetSide.self).streamSide
    }

    /// On the client's stream: frames in, datagrams out to the target.
    final class StreamSide: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer

        private let udp: any Channel
        private let target: SocketAddress
        private let log: FlowLog
        private var frames = DatagramFraming.Reader()
        private var pendingRead = false
        private var context: ChannelHandlerContext?

        init(udp: any Channel, target: SocketAddress, log: FlowLog) {
            self.udp = udp
            self.target = target
            self.log = log
        }

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.frames.append(self.unwrapInboundIn(data))
            do {
                while let datagram = try self.frames.next() {
                    self.log.datagramsIn += 1
                    self.udp.write(AddressedEnvelope(remoteAddress: self.target, data: datagram), promise: nil)
                }
            } catch {
                self.log.endReason = "closed: \(error.message)"
                context.close(promise: nil)
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            self.udp.flush()
        }

        func read(context: ChannelHandlerContext) {
            if self.udp.isWritable {
                context.read()
            } else {
                self.pendingRead = true
            }
        }

        func targetBecameWritable() {
            if self.pendingRead {
                self.pendingRead = false
                self.context?.read()
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all {
                self.log.endReason = "closed after no datagram either way for the idle period"
                context.close(promise: nil)
                return
            }
            // The client has nothing more to send: a UDP flow has no half-open state.
            if case ChannelEvent.inputClosed = event {
                context.close(promise: nil)
                return
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.udp.close(promise: nil)
            self.context = nil
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    /// On the UDP socket: datagrams in, frames out to the client's stream.
    final class TargetSide: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>

        private let stream: any Channel
        let streamSide: StreamSide
        private let log: FlowLog
        private var unflushed = false

        init(stream: any Channel, streamSide: StreamSide, log: FlowLog) {
            self.stream = stream
            self.streamSide = streamSide
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let datagram = self.unwrapInboundIn(data).data
            guard self.stream.isWritable else {
                self.log.datagramsDropped += 1
                return
            }
            var frame = context.channel.allocator.buffer(capacity: 2 + datagram.readableBytes)
            DatagramFraming.write(datagram, to: &frame)
            self.log.datagramsOut += 1
            self.stream.write(frame, promise: nil)
            self.unflushed = true
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if self.unflushed {
                self.unflushed = false
                self.stream.flush()
            }
        }

        func channelWritabilityChanged(context: ChannelHandlerContext) {
            if context.channel.isWritable { self.streamSide.targetBecameWritable() }
            context.fireChannelWritabilityChanged()
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.stream.close(promise: nil)
            context.fireChannelInactive()
        }

        /// A connected UDP socket reports the target's ICMP "port unreachable" as a read error;
        /// the flow stays, as the target may start listening.
        func errorCaught(context: ChannelHandlerContext, error: any Error) {}
    }
}
