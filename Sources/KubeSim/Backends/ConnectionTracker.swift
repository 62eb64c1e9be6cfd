import NIOConcurrencyHelpers
import NIOCore

/// Remembers a backend's open connections so that stopping the pod cuts every one of them, as a
/// container's death does.
final class ConnectionTracker: ChannelInboundHandler, Sendable {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    /// Told after every accepted or closed connection (tests wait on connection counts).
    private let onChange: @Sendable () -> Void

    init(onChange: @escaping @Sendable () -> Void) {
        self.onChange = onChange
    }

    var count: Int { self.channels.withLockedValue { $0.count } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let channel = self.unwrapInboundIn(data)
        let id = ObjectIdentifier(channel)
        self.channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [channels, onChange] _ in
            _ = channels.withLockedValue { $0.removeValue(forKey: id) }
            onChange()
        }
        self.onChange()
        context.fireChannelRead(data)
    }

    func closeAll() {
        let open = self.channels.withLockedValue { $0.values }
        for channel in open { channel.close(promise: nil) }
    }
}
