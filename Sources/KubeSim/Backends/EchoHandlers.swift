import NIOCore
import NIOHTTP1

/// `kubesim/tcp-echo`: writes back what it reads, and stops reading while the peer is not
/// draining its replies, so a slow reader slows the writer.
final class TCPEchoHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var pendingRead = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && self.pendingRead {
            self.pendingRead = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client closed its side: finish ours once everything it sent has been echoed.
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.writeAndFlush(NIOAny(ByteBuffer())).whenComplete { [channel = context.channel] _ in
                channel.close(mode: .output, promise: nil)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// `kubesim/http-echo`: answers every request with a body that names the pod and echoes the
/// request line, so a client can tell which pod served it.
final class HTTPEchoHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let pod: String
    private let namespace: String
    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    init(pod: String, namespace: String) {
        self.pod = pod
        self.namespace = namespace
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.bodyBytes = 0
        case .body(let chunk):
            self.bodyBytes += chunk.readableBytes
        case .end:
            guard let head = self.head else { return }
            let text = "pod: \(self.pod)\nnamespace: \(self.namespace)\nmethod: \(head.method.rawValue)\npath: \(head.uri)\nbody-bytes: \(self.bodyBytes)\n"
            var headers = HTTPHeaders([
                ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", String(text.utf8.count)),
                ("X-Pod-Name", self.pod), ("X-Pod-Namespace", self.namespace),
            ])
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
            if !head.isKeepAlive {
                done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// `kubesim/udp-echo`: sends every datagram back to its sender.
final class UDPEchoHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = self.unwrapInboundIn(data)
        context.writeAndFlush(self.wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: envelope.data)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
