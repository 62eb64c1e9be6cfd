import ChannelGlue
import NIOCore
import NIOPosix

/// The listening sockets of one port mapping, one per address, all bound before anything is
/// dialed. Accepted connections do not read until their stream is ready (auto-read off), so no
/// byte is read that could not be forwarded.
public struct LocalListener: Sendable {
    public struct Bound: Sendable {
        public let address: String
        let server: any Channel
    }

    /// Decides, on its event loop, whether a connection just accepted is served there (true:
    /// its stream is joined, and ``AcceptedConnections`` gets what it later needs) or by a task.
    typealias Accepted = @Sendable (any Channel, AcceptedConnections) -> Bool

    public let mapping: PortMapping
    public let sockets: [Bound]
    let connections: AcceptedConnections

    /// Binds `mapping.local` on every address; a local port 0 becomes a free port, the same one
    /// on every address (as kubectl does).
    /// - Parameters:
    ///   - traffic: counts the bytes of every accepted connection.
    ///   - accepted: called with each accepted connection on its event loop; without it, or
    ///     when it returns false, a task serves the connection.
    /// - Throws: ``ForwardError`` naming the port and, when Linux tells, the process holding it.
    static func bind(
        _ mapping: PortMapping, addresses: ListenAddresses, group: any EventLoopGroup, traffic: TrafficCounter? = nil,
        accepted: Accepted? = nil
    ) async throws(ForwardError) -> LocalListener {
        var mapping = mapping
        var sockets: [Bound] = []
        let connections = AcceptedConnections(requested: mapping)
        for address in addresses.addresses {
            do {
                let server = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try Self.configure(accepted: channel)
                            if let traffic { try channel.pipeline.syncOperations.addHandler(TrafficCountingHandler(counter: traffic)) }
                            try channel.pipeline.syncOperations.addHandler(HeldInputHandler())
                            connections.track(channel)
                            if accepted?(channel, connections) != true { connections.serveInTask(channel) }
                        }
                    }
                    .bind(host: address.host, port: mapping.local).get()
                mapping.local = server.localAddress?.port ?? mapping.local
                sockets.append(Bound(address: address.host, server: server))
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                await LocalListener(mapping: mapping, sockets: sockets, connections: connections).close()
                throw PortHolder.inUse(mapping, host: address.host)
            } catch let error as IOError where error.errnoCode == EADDRNOTAVAIL && address.host.hasPrefix("127.") {
                // macOS routes only 127.0.0.1 to lo0 until an alias is added, which needs root.
                await LocalListener(mapping: mapping, sockets: sockets, connections: connections).close()
                throw ForwardError(
                    code: .bindFailed, "cannot listen on \(address.host):\(mapping.local): the address is not on the loopback interface",
                    fix: "add it once with `sudo ifconfig lo0 alias \(address.host) up` (kfwd does not run sudo for you), or use --address 127.0.0.1"
                )
            } catch {
                if address.optional { continue }
                await LocalListener(mapping: mapping, sockets: sockets, connections: connections).close()
                throw ForwardError(code: .bindFailed, "cannot listen on \(address.host):\(mapping.local): \(error)")
            }
        }
        return LocalListener(mapping: mapping, sockets: sockets, connections: connections)
    }

    /// Sets an accepted connection's options, before it is registered, as `childChannelOption`
    /// would, but directly: the bootstrap's way chains a future and casts an existential per
    /// option, a tenth of kfwd's instructions per new connection (counted with callgrind).
    private static func configure(accepted channel: any Channel) throws {
        guard let options = channel.syncOptions else { throw ChannelError.operationUnsupported }
        try options.setOption(.tcpOption(.tcp_nodelay), value: 1)
        try options.setOption(.autoRead, value: false)
        try options.setOption(.allowRemoteHalfClosure, value: true)
    }

    /// Binds `mapping` with nobody to serve it: a probe of whether the port can be bound.
    public static func probe(_ mapping: PortMapping, addresses: ListenAddresses, group: any EventLoopGroup) async throws(ForwardError) -> LocalListener {
        try await Self.bind(mapping, addresses: addresses, group: group)
    }

    /// Closes every socket (a listener that was only a probe, or one that is no longer wanted),
    /// and every connection still open.
    public func close() async {
        for socket in self.sockets { try? await socket.server.close() }
        self.connections.stop()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
