import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SPDY

/// The server side of the `Upgrade: SPDY/3.1` handshake (apimachinery httpstream/spdy
/// upgrade.go and httpstream.Handshake): a `pods/{name}/portforward` request for a running pod
/// whose `X-Stream-Protocol-Version` offers `portforward.k8s.io` gets the 101 with that version
/// echoed; anything else is not upgraded and goes on to the REST layer, which says why. One
/// upgrader per connection: what the handshake accepted is what the pipeline serves.
struct SPDYServerUpgrader<Accepted: Sendable>: HTTPServerProtocolUpgrader, Sendable {
    let supportedProtocol = "SPDY/3.1"
    let requiredUpgradeHeaders: [String] = []
    /// What the request is accepted as (its pod, its user), or nil if it may not be upgraded.
    let accept: @Sendable (any Channel, HTTPRequestHead) -> Accepted?
    /// Builds the pipeline after the 101.
    let upgradePipeline: @Sendable (any Channel, Accepted) throws -> Void
    private let accepted = NIOLockedValueBox<Accepted?>(nil)

    init(accept: @escaping @Sendable (any Channel, HTTPRequestHead) -> Accepted?, upgradePipeline: @escaping @Sendable (any Channel, Accepted) throws -> Void) {
        self.accept = accept
        self.upgradePipeline = upgradePipeline
    }

    private struct Refused: Error {}

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        let versions = upgradeRequest.headers[canonicalForm: "X-Stream-Protocol-Version"]
        guard versions.contains(Substring(PortForwardSPDY.streamProtocol)), let accepted = self.accept(channel, upgradeRequest) else {
            return channel.eventLoop.makeFailedFuture(Refused())
        }
        self.accepted.withLockedValue { $0 = accepted }
        var headers = initialResponseHeaders
        headers.add(name: "X-Stream-Protocol-Version", value: PortForwardSPDY.streamProtocol)
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        return channel.eventLoop.makeCompletedFuture {
            guard let accepted = self.accepted.withLockedValue({ $0 }) else { throw Refused() }
            try self.upgradePipeline(channel, accepted)
        }
    }
}
