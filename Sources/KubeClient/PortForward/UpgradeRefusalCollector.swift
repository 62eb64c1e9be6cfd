import NIOCore
import NIOHTTP1

/// Reads the answer to an upgrade request the server did not accept: its status and (the first
/// 64 KiB of) its body, usually a Kubernetes `Status`.
final class UpgradeRefusalCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<(status: Int, body: ByteBuffer)>
    private var status: Int?
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<(status: Int, body: ByteBuffer)>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = Int(head.status.code)
        case .body(var chunk):
            if self.body.readableBytes < 64 << 10 { self.body.writeBuffer(&chunk) }
        case .end:
            self.complete()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.complete()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.promise.fail(error)
        context.close(promise: nil)
    }

    private func complete() {
        if let status = self.status {
            self.promise.succeed((status, self.body))
        } else {
            self.promise.fail(ChannelError.eof)
        }
    }
}
