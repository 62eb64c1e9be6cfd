import NIOCore
import NIOHTTP1
import SPDY

/// The client side of `Upgrade: SPDY/3.1` for port-forward (apimachinery httpstream/spdy
/// roundtripper.go): offers `portforward.k8s.io` and requires it back in the 101, as client-go
/// does; then the SPDY codec goes in, and `upgradePipelineHandler` adds the session.
struct SPDYClientUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPClientProtocolUpgrader {
    let supportedProtocol = "SPDY/3.1"
    let requiredUpgradeHeaders: [String] = []
    let wrongProtocol: @Sendable (String?) -> UpgradeResult
    let upgradePipelineHandler: @Sendable (any Channel) -> EventLoopFuture<UpgradeResult>

    func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
        upgradeRequestHeaders.add(name: "X-Stream-Protocol-Version", value: PortForwardSPDY.streamProtocol)
    }

    func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool { true }

    func upgrade(channel: any Channel, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<UpgradeResult> {
        let version = upgradeResponse.headers.first(name: "X-Stream-Protocol-Version")
        guard version == PortForwardSPDY.streamProtocol else { return channel.eventLoop.makeSucceededFuture(self.wrongProtocol(version)) }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addSPDYCodec()
        }.flatMap {
            self.upgradePipelineHandler(channel)
        }
    }
}
