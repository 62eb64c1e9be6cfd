import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOWebSocket
import SPDY

/// The kubelet's side of a `v4.channel.k8s.io` port-forward (cri-streaming
/// portforward/websocket.go): a port prefix on every channel, one connection to the pod per
/// requested port opened at once, the pod's bytes on the data channel, a dial failure as text on
/// the error channel, and a Close 1000 once every port has finished.
///
/// Backpressure both ways: a WebSocket that cannot take more stops reading from the pod; a pod
/// connection that cannot take more stops reading from the WebSocket.
final class WebSocketPortForwardHandler: ChannelInboundHandler, BackendRelayOwner {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private struct Port {
        let number: Int
        var backend: (any Channel)?
        /// Client bytes that arrived while the pod connection was being dialed.
        var pending: [ByteBuffer] = []
        var finished = false
    }

    private let target: PortForwardTarget
    private let framing: PortForwardFraming
    private let endpoint: @Sendable (Int) -> BackendEndpoint?
    private let logger: Logger
    private var ports: [Port]
    private var context: ChannelHandlerContext?
    /// A message split over continuation frames: its opcode and what arrived so far.
    private var fragments: (opcode: WebSocketOpcode, data: ByteBuffer)?
    private var closing = false

    init(target: PortForwardTarget, framing: PortForwardFraming, endpoint: @escaping @Sendable (Int) -> BackendEndpoint?, logger: Logger) {
        self.target = target
        self.framing = framing
        self.endpoint = endpoint
        self.logger = logger
        self.ports = target.ports.map { Port(number: $0) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The prefix goes out as one message per channel, never merged with data (section 1.3).
        for (index, port) in self.ports.enumerated() {
            var prefix = context.channel.allocator.buffer(capacity: 2)
            prefix.writeInteger(UInt16(port.number), endianness: .little)
            self.send(channel: UInt8(2 * index), prefix, context: context)
            self.send(channel: UInt8(2 * index + 1), prefix, context: context)
        }
        context.flush()
        for index in self.ports.indices { self.dial(index, context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        for port in self.ports { port.backend?.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for port in self.ports { port.backend?.close(promise: nil) }
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        for port in self.ports { port.backend?.setAutoRead(writable) }
        context.fireChannelWritabilityChanged()
    }

    // MARK: frames from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            var pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            pong.rsv1 = false
            context.writeAndFlush(self.wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            self.closeWebSocket(code: frame.unmaskedData.getInteger(at: frame.unmaskedData.readerIndex, as: UInt16.self), context: context)
        case .binary, .text:
            if frame.fin {
                self.message(frame.opcode, WebSocketMasking.payload(of: frame), context: context)
            } else {
                self.fragments = (frame.opcode, WebSocketMasking.payload(of: frame))
            }
        case .continuation:
            guard var fragments = self.fragments else { return }
            var data = WebSocketMasking.payload(of: frame)
            fragments.data.writeBuffer(&data)
            if frame.fin {
                self.fragments = nil
                self.message(fragments.opcode, fragments.data, context: context)
            } else {
                self.fragments = fragments
            }
        default:
            break
        }
    }

    /// One reassembled message. The kubelet reads text and binary alike, skips empty messages,
    /// ignores unknown channels and drops what a client sends on an error channel.
    private func message(_ opcode: WebSocketOpcode, _ message: ByteBuffer, context: ChannelHandlerContext) {
        var message = message
        guard let channel = self.decodeChannel(&message) else { return }
        let index = Int(channel / 2)
        guard channel % 2 == 0, index < self.ports.count, !self.ports[index].finished else { return }
        if message.readableBytes == 0 { return }
        if let backend = self.ports[index].backend {
            backend.writeAndFlush(message, promise: nil)
            if !backend.isWritable { context.channel.setAutoRead(false) }
        } else {
            self.ports[index].pending.append(message)
        }
    }

    private func decodeChannel(_ message: inout ByteBuffer) -> UInt8? {
        guard let first = message.readInteger(as: UInt8.self) else { return nil }
        switch self.framing {
        case .binary:
            return first
        case .base64:
            guard first >= UInt8(ascii: "0"), let text = message.readString(length: message.readableBytes),
                let decoded = Data(base64Encoded: text)
            else {
                self.logger.debug("dropping a malformed base64 port-forward frame")
                return nil
            }
            message = ByteBuffer(bytes: decoded)
            return first - UInt8(ascii: "0")
        }
    }

    // MARK: the pod side

    private func dial(_ index: Int, context: ChannelHandlerContext) {
        let port = self.ports[index].number
        guard let endpoint = self.endpoint(port) else {
            self.fail(index, "dial tcp4 127.0.0.1:\(port): connect: connection refused", context: context)
            return
        }
        let owner = NIOLoopBound<any BackendRelayOwner>(self, eventLoop: context.eventLoop)
        BackendRelayHandler.dial(endpoint, owner: owner, index: index)
            .whenComplete { result in
                let handler = owner.value as! WebSocketPortForwardHandler
                guard let context = handler.context else {
                    if case .success(let channel) = result { channel.close(promise: nil) }
                    return
                }
                switch result {
                case .success(let channel):
                    if handler.ports[index].finished {
                        channel.close(promise: nil)
                        return
                    }
                    handler.ports[index].backend = channel
                    for buffer in handler.ports[index].pending { channel.write(buffer, promise: nil) }
                    handler.ports[index].pending = []
                    channel.flush()
                    channel.setAutoRead(context.channel.isWritable)
                case .failure(let error):
                    handler.fail(index, "dial tcp4 \(endpoint.host):\(endpoint.port): \(PortForwardTarget.goDialError(error))", context: context)
                }
            }
    }

    /// The runtime could not reach the port: error text on the port's error channel, then the
    /// port is finished.
    private func fail(_ index: Int, _ reason: String, context: ChannelHandlerContext) {
        self.send(channel: UInt8(2 * index + 1), ByteBuffer(string: self.target.dialFailure(port: self.ports[index].number, reason: reason)), context: context)
        context.flush()
        self.finish(index, context: context)
    }

    func backendRead(_ index: Int, _ buffer: ByteBuffer) {
        guard let context = self.context, !self.closing else { return }
        self.send(channel: UInt8(2 * index), buffer, context: context)
        context.flush()
        if !context.channel.isWritable {
            for port in self.ports { port.backend?.setAutoRead(false) }
        }
    }

    func backendClosed(_ index: Int) {
        guard let context = self.context else { return }
        self.finish(index, context: context)
    }

    func backendWritabilityChanged() {
        guard let context = self.context else { return }
        let allWritable = self.ports.allSatisfy { $0.backend?.isWritable ?? true }
        context.channel.setAutoRead(allWritable)
    }

    private func finish(_ index: Int, context: ChannelHandlerContext) {
        guard !self.ports[index].finished else { return }
        self.ports[index].finished = true
        self.ports[index].backend?.close(promise: nil)
        if self.ports.allSatisfy(\.finished) { self.closeWebSocket(code: nil, context: context) }
    }

    /// Close 1000 (`03 E8`, the x/net/websocket default) and the TCP connection after it.
    private func closeWebSocket(code: UInt16?, context: ChannelHandlerContext) {
        guard !self.closing else { return }
        self.closing = true
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.writeInteger(code ?? 1000)
        let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
        context.writeAndFlush(self.wrapOutboundOut(close)).whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
    }

    private func send(channel: UInt8, _ payload: ByteBuffer, context: ChannelHandlerContext) {
        var payload = payload
        var message = context.channel.allocator.buffer(capacity: payload.readableBytes + 1)
        let opcode: WebSocketOpcode
        switch self.framing {
        case .binary:
            message.writeInteger(channel)
            message.writeBuffer(&payload)
            opcode = .binary
        case .base64:
            message.writeInteger(UInt8(ascii: "0") + channel)
            message.writeString(Data(payload.readableBytesView).base64EncodedString())
            opcode = .text
        }
        context.write(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: message)), promise: nil)
    }
}

extension Channel {
    /// Turns socket reads on or off: NIO reads again by itself when auto-read comes back on.
    func setAutoRead(_ on: Bool) {
        self.setOption(.autoRead, value: on).whenFailure { _ in }
    }
}
