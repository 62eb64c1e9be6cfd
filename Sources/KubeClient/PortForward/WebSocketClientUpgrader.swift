import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket
import SPDY

/// The client side of the WebSocket handshake (RFC 6455 section 4.1) for port-forward: sends the
/// key, checks `Sec-WebSocket-Accept`, and installs only a frame decoder (NIO's, or for a byte
/// stream such as the SPDY tunnel one that hands binary payloads on as they arrive); frames
/// going out are built by ``WebSocketMasking`` (NIO's encoder masks a byte at a time).
struct WebSocketClientUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPClientProtocolUpgrader {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []
    private let requestKey: String
    private let maxFrameSize: Int
    private let byteStream: Bool
    private let upgradePipelineHandler: @Sendable (any Channel, HTTPResponseHead) -> EventLoopFuture<UpgradeResult>

    /// - Parameter byteStream: message boundaries carry no meaning (the SPDY tunnel), so binary
    ///   payloads may be handed on in parts (``StreamingWebSocketFrameDecoder``).
    init(
        maxFrameSize: Int, byteStream: Bool = false,
        upgradePipelineHandler: @escaping @Sendable (any Channel, HTTPResponseHead) -> EventLoopFuture<UpgradeResult>
    ) {
        self.requestKey = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        self.maxFrameSize = maxFrameSize
        self.byteStream = byteStream
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
            if self.byteStream {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(StreamingWebSocketFrameDecoder(maxFrameSize: self.maxFrameSize)))
            } else {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: self.maxFrameSize)))
            }
        }.flatMap {
            self.upgradePipelineHandler(channel, upgradeResponse)
        }
    }
}
