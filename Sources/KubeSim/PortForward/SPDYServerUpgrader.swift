import NIOCore
import NIOHTTP1
import SPDY

/// The server side of the `Upgrade: SPDY/3.1` handshake (apimachinery httpstream/spdy
/// upgrade.go and httpstream.Handshake): a `pods/{name}/portforward` request for a running pod
/// whose `X-Stream-Protocol-Version` offers `portforward.k8s.io` gets the 101 with that version
/// echoed; anything else is not upgraded and goes on to the REST layer, which says why.
struct SPDYServerUpgrader<Accepted: Sendable>: HTTPServerProtocolUpgrader, Sendable {
    let supportedProtocol = "SPDY/3.1"
    let requiredUpgradeHeaders: [String] = []
    /// What the request is accepted as (its pod, its user), or nil if it may not be upgraded.
    let accept: @Sendable (any Channel, HTTPRequestHead) -> Accepted?
    /// Builds the pipeline after the 101: the SPDY codec is already in place.
    let upgradePipeline: @Sendable (any Channel, Accepted) throws -> Void

    private struct Refused: Error {}

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        let versions = upgradeRequest.headers[canonicalForm: "X-Stream-Protocol-Version"]
        guard versions.contains(Substring(PortForwardFraming.spdyStreamProtocol)), self.accept(channel, upgradeRequest) != nil else {
            return channel.eventLoop.makeFailedFuture(Refused())
        }
        var headers = initialResponseHeaders
        headers.add(name: "X-Stream-Protocol-Version", value: PortForwardFraming.spdyStreamProtocol)
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        return channel.eventLoop.makeCompletedFuture {
            guard let accepted = self.accept(channel, upgradeRequest) else { throw Refused() }
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SPDYFrameDecoder()))
            try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(SPDYFrameEncoder()))
            try self.upgradePipeline(channel, accepted)
        }
    }
}
