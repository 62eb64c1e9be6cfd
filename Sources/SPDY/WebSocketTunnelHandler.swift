import NIOCore
import NIOWebSocket

/// Turns a WebSocket into the byte stream SPDY runs on (the tunnel of wire doc section 3):
/// binary payloads in order, whatever their message boundaries (client-go writes each field of
/// a frame as its own message, and an empty message is not an end); writes as binary messages.
/// Pings are answered, a text message is an error, and a Close is echoed and ends the stream
/// (1000 is a clean end). Closing the channel sends Close 1000 first, as client-go does.
/// A server wraps what it is given in binary messages; a client is given messages already
/// framed and masked (``SPDYFrameEncoder/Framing/maskedWebSocket``) and passes them on.
package final class WebSocketTunnelHandler: ChannelDuplexHandler {
    package typealias InboundIn = WebSocketFrame
    package typealias InboundOut = ByteBuffer
    package typealias OutboundIn = ByteBuffer
    /// A client writes frames it masked itself (``WebSocketMasking``); a server writes
    /// `WebSocketFrame`s to NIO's encoder, so outbound values are wrapped by role.
    package typealias OutboundOut = ByteBuffer

    package enum Role: Sendable {
        case client
        case server
    }

    private let role: Role
    private var closeSent = false

    package init(role: Role) {
        self.role = role
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .continuation:
            let payload = WebSocketMasking.payload(of: frame)
            if payload.readableBytes > 0 { context.fireChannelRead(self.wrapInboundOut(payload)) }
        case .ping:
            self.send(.pong, WebSocketMasking.payload(of: frame), context: context)
            context.flush()
        case .connectionClose:
            var payload = WebSocketMasking.payload(of: frame)
            let code = payload.readInteger(as: UInt16.self) ?? 1000
            if code != 1000 {
                context.fireErrorCaught(SPDYError.frame("the tunnel was closed with WebSocket status \(code)"))
            }
            self.sendClose(code: code, context: context)
            context.close(promise: nil)
        case .text:
            context.fireErrorCaught(SPDYError.frame("invalid message type received: text in the SPDY tunnel"))
            self.sendClose(code: 1003, context: context)
            context.close(promise: nil)
        default:
            break
        }
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.role {
        case .client: context.write(data, promise: promise)
        case .server: self.send(.binary, self.unwrapOutboundIn(data), context: context, promise: promise)
        }
    }

    package func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all, context.channel.isActive { self.sendClose(code: 1000, context: context) }
        context.close(mode: mode, promise: promise)
    }

    private func sendClose(code: UInt16, context: ChannelHandlerContext) {
        guard !self.closeSent else { return }
        self.closeSent = true
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.writeInteger(code)
        self.send(.connectionClose, payload, context: context)
        context.flush()
    }

    private func send(_ opcode: WebSocketOpcode, _ payload: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        switch self.role {
        case .client:
            context.write(self.wrapOutboundOut(WebSocketMasking.clientFrame(opcode, payload: payload, allocator: context.channel.allocator)), promise: promise)
        case .server:
            context.write(NIOAny(WebSocketFrame(fin: true, opcode: opcode, data: payload)), promise: promise)
        }
    }
}
