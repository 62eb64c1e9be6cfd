import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The client side of the WebSocket handshake (RFC 6455 section 4.1) for port-forward: sends the
/// key, checks `Sec-WebSocket-Accept`, and installs only NIO's frame decoder; frames going out
/// are built by ``WebSocketMasking`` (NIO's encoder masks a byte at a time).
struct WebSocketClientUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPClientProtocolUpgrader {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []
    private let requestKey: String
    private let maxFrameSize: Int
    private let upgradePipelineHandler: @Sendable (any Channel, HTTPResponseHead) -> EventLoopFuture<UpgradeResult>

    init(maxFrameSize: Int, upgradePipelineHandler: @escaping @Sendable (any Channel, HTTPResponseHead) -> EventLoopFuture<UpgradeResult>) {
        self.requestKey = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        self.maxFrameSize = maxFrameSize
        self.upgradePipelineHandler = upgradePipelineHandler
    }

    func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
        upgradeRequestHeaders.add(name: "Sec-WebSocket-Key", value: self.requestKey)
        upgradeRequestHeaders.add(name: "Sec-WebSocket-Version", value: "13")
    }

    func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool {
        let digest = Insecure.SHA1.hash(data: Data((self.requestKey + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        return upgradeResponse.headers.first(name: "Sec-WebSocket-Accept") == Data(digest).base64EncodedString()
    }

    func upgrade(channel: any Channel, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: self.maxFrameSize)))
        }.flatMap {
            self.upgradePipelineHandler(channel, upgradeResponse)
        }
    }
}
