import NIOCore
import NIOSSL
import SPDY
import NIOWebSocket

/// Turns an upgraded `v4.channel.k8s.io` WebSocket into a plain byte channel for one port:
/// inbound data-channel messages become `ByteBuffer` reads, writes become masked data messages,
/// and error-channel text becomes the stream's error.
///
/// v4 cannot half-close: a client has no way to say "no more data" on a port while still
/// reading (the v5 CLOSE signal exists only for exec and attach), and a local FIN looks the same
/// whether the client closed or only shut down its writing side. So a local end of input keeps
/// the stream open for ``halfCloseLinger`` (what the kubelet itself waits for the other
/// direction) to let a response in flight arrive, then closes the whole WebSocket.
final class WebSocketPortForwardClientHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    /// Frames already encoded and masked (``WebSocketMasking``).
    typealias OutboundOut = ByteBuffer

    private var decoder: PortForwardMessageDecoder
    private let ready: EventLoopPromise<Void>
    private var settled = false
    private let describe: (String) -> PortForwardError
    /// Data that arrived before the stream was spliced (usually none).
    private var held: [ByteBuffer] = []
    private var delivering = false
    private var fragments: ByteBuffer?
    private var errorText = ""
    private var closeSent = false
    private var closeReceived = false
    private var linger: Scheduled<Void>?
    static let halfCloseLinger: TimeAmount = .seconds(1)
    /// What ended the stream badly, read once the channel is closed.
    private(set) var failure: PortForwardError?

    init(port: Int, ready: EventLoopPromise<Void>, describe: @escaping (String) -> PortForwardError) {
        self.decoder = PortForwardMessageDecoder(port: UInt16(port))
        self.ready = ready
        self.describe = describe
    }

    /// Added once the 101 is read, perhaps after the server already closed the connection: a
    /// refused dial arrives as the 101, the port prefixes, the error text and the close in one
    /// read. Such a channel sends no channelInactive to a handler added late, so the stream
    /// would never be settled; once the bytes that came with the 101 are read (they are passed
    /// on in this same turn of the event loop), settle it here instead.
    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            guard !channel.isActive else { return }
            handler.value.closedEarly()
        }
    }

    private func closedEarly() {
        if self.failure == nil, !self.errorText.isEmpty { self.failure = self.describe(self.errorText) }
        // Before the port is announced nothing of the local connection has been sent: the pod
        // never saw it, and another pod may take it.
        self.settle(self.failure ?? PortForwardError(kind: .rejected, message: "the server closed the port-forward stream before announcing the port"))
    }

    /// Completes `ready` once: with success when the ports are announced, else with `error`.
    private func settle(_ error: PortForwardError?) {
        guard !self.settled else { return }
        self.settled = true
        if let error { self.ready.fail(error) } else { self.ready.succeed() }
    }

    /// Starts passing data on (after the glue is in place), the held bytes first.
    func startDelivering(context: ChannelHandlerContext) {
        self.delivering = true
        for buffer in self.held { context.fireChannelRead(self.wrapInboundOut(buffer)) }
        if !self.held.isEmpty { context.fireChannelReadComplete() }
        self.held = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            self.send(.pong, frame.unmaskedData, context: context)
            context.flush()
        case .connectionClose:
            self.closeReceived = true
            if !self.closeSent {
                self.closeSent = true
                var echo = frame.unmaskedData
                let code = echo.readSlice(length: min(2, echo.readableBytes)) ?? ByteBuffer()
                context.writeAndFlush(self.wrapOutboundOut(WebSocketMasking.clientFrame(.connectionClose, payload: code, allocator: context.channel.allocator)))
                    .whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        case .binary, .text:
            if frame.fin {
                self.message(frame.unmaskedData, context: context)
            } else {
                self.fragments = frame.unmaskedData
            }
        case .continuation:
            guard var fragments = self.fragments else {
                self.fail(PortForwardError(kind: .protocolViolation, message: "port-forward protocol error: a continuation frame without a message"), context: context)
                return
            }
            var data = frame.unmaskedData
            fragments.writeBuffer(&data)
            self.fragments = frame.fin ? nil : fragments
            if frame.fin { self.message(fragments, context: context) }
        default:
            break
        }
    }

    private func message(_ message: ByteBuffer, context: ChannelHandlerContext) {
        do {
            switch try self.decoder.decode(message) {
            case .ready:
                self.settle(nil)
            case .data(let buffer):
                if self.delivering {
                    context.fireChannelRead(self.wrapInboundOut(buffer))
                } else {
                    self.held.append(buffer)
                }
            case .errorText(let text):
                self.errorText += text
            case nil:
                break
            }
        } catch {
            self.fail(error, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.delivering { context.fireChannelReadComplete() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.linger?.cancel()
        self.closedEarly()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // What the error channel said is the cause; a TLS close without close_notify after it
        // (or after the server's Close frame) is only how the connection ended.
        if !self.errorText.isEmpty {
            self.fail(self.describe(self.errorText), context: context)
        } else if self.closeReceived, let tls = error as? NIOSSLError, tls == .uncleanShutdown {
            context.close(promise: nil)
        } else {
            self.fail(PortForwardError(kind: .transport, message: "the port-forward connection broke: \(error)"), context: context)
        }
    }

    private func fail(_ error: PortForwardError, context: ChannelHandlerContext) {
        if self.failure == nil { self.failure = error }
        self.settle(error)
        context.close(promise: nil)
    }

    // MARK: outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = self.unwrapOutboundIn(data)
        let frame = WebSocketMasking.clientFrame(.binary, channel: 0, payload: payload, allocator: context.channel.allocator)
        context.write(self.wrapOutboundOut(frame), promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all else {
            // No half-close in v4 (see the type's documentation).
            if self.linger == nil {
                self.linger = context.eventLoop.assumeIsolated().scheduleTask(in: Self.halfCloseLinger) { [self] in
                    self.close(context: context, mode: .all, promise: nil)
                }
            }
            promise?.succeed()
            return
        }
        self.linger?.cancel()
        guard !self.closeSent, context.channel.isActive else {
            context.close(mode: mode, promise: promise)
            return
        }
        self.closeSent = true
        var code = context.channel.allocator.buffer(capacity: 2)
        code.writeInteger(UInt16(1000))
        self.send(.connectionClose, code, context: context)
        context.flush()
        context.close(mode: mode, promise: promise)
    }

    private func send(_ opcode: WebSocketOpcode, _ payload: ByteBuffer, context: ChannelHandlerContext) {
        context.write(self.wrapOutboundOut(WebSocketMasking.clientFrame(opcode, payload: payload, allocator: context.channel.allocator)), promise: nil)
    }
}
