import NIOCore
import NIOPosix

extension ClientBootstrap {
    /// Connects to `host`, skipping name resolution when it is already an IP address.
    ///
    /// `connect(host:port:)` always goes through NIO's resolver, which runs `getaddrinfo` on one
    /// serial queue per event loop and then hops back: two thread wake-ups per connection, and
    /// every connection of that loop queued behind the others. Pod and Service addresses, and a
    /// kubeconfig's `https://127.0.0.1:…`, are nearly always literals.
    public func connect(literalOrHost host: String, port: Int) -> EventLoopFuture<any Channel> {
        if let address = Self.literalAddress(host, port: port) { return self.connect(to: address) }
        return self.connect(host: host, port: port)
    }

    /// The typed-initializer form of ``connect(literalOrHost:port:)``.
    public func connect<Output: Sendable>(
        literalOrHost host: String, port: Int,
        channelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) async throws -> Output {
        if let address = Self.literalAddress(host, port: port) {
            return try await self.connect(to: address, channelInitializer: channelInitializer)
        }
        return try await self.connect(host: host, port: port, channelInitializer: channelInitializer)
    }

    /// Hosts come bare (`::1`, not `[::1]`), as `connect(host:port:)` needs them anyway.
    private static func literalAddress(_ host: String, port: Int) -> SocketAddress? {
        try? SocketAddress(ipAddress: host, port: port)
    }
}
