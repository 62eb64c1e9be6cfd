import NIOCore
import RelayProtocol

/// On the inner end of a UDP flow's pipe: the relay's status byte, then framed datagrams from
/// the target, each sent to the flow's local peer from the forward's UDP socket.
final class RelayDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let flow: UDPFlow
    private let socket: any Channel
    private var frames = DatagramFraming.Reader()
    private var statusRead = false
    private var unflushed = false

    init(flow: UDPFlow, socket: any Channel) {
        self.flow = flow
        self.socket = socket
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.frames.append(self.unwrapInboundIn(data))
        if !self.statusRead {
            guard let status = self.frames.readStatus() else { return }
            self.statusRead = true
            guard status == .ok else {
                self.flow.refused(status)
                context.close(promise: nil)
                return
            }
        }
        do {
            while let datagram = try self.frames.next() {
                self.flow.touch()
                self.socket.write(AddressedEnvelope(remoteAddress: self.flow.peer, data: datagram), promise: nil)
                self.unflushed = true
            }
        } catch {
            self.flow.failed(error.message)
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.unflushed {
            self.unflushed = false
            self.socket.flush()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.flow.closed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
