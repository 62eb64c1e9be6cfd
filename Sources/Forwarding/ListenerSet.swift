import ChannelGlue
import NIOCore

/// The local sockets of every port mapping of a forward, all bound before anything is dialed,
/// and the accept loops that hand each connection to the forward.
struct ListenerSet: Sendable {
    let listeners: [LocalListener]

    /// Binds every mapping; on any failure the ones already bound are closed again.
    /// - Parameter accepted: called with each accepted connection and its remote port, on the
    ///   connection's event loop, before any task serves it.
    static func bind(
        _ mappings: [PortMapping], addresses: ListenAddresses, group: any EventLoopGroup, traffic: TrafficCounter?,
        accepted: (@Sendable (any Channel, Int) -> Void)? = nil
    ) async throws(ForwardError) -> ListenerSet {
        var listeners: [LocalListener] = []
        for mapping in mappings {
            do {
                let remote = mapping.remote
                var hook: (@Sendable (any Channel) -> Void)?
                if let accepted { hook = { accepted($0, remote) } }
                listeners.append(try await LocalListener.bind(mapping, addresses: addresses, group: group, traffic: traffic, accepted: hook))
            } catch {
                for listener in listeners { await listener.close() }
                throw error
            }
        }
        return ListenerSet(listeners: listeners)
    }

    func announce(_ events: @Sendable (ForwardEvent) -> Void) {
        for listener in self.listeners {
            for socket in listener.sockets {
                events(.listening(address: socket.address, local: listener.mapping.local, remote: listener.mapping.remote))
            }
        }
    }

    /// Accepts until cancelled; each connection runs `handle` in its own child task, which must
    /// close the connection when done and catch its own errors.
    func serve(_ handle: @escaping @Sendable (any Channel, PortMapping) async -> Void) async {
        await withDiscardingTaskGroup { group in
            for listener in self.listeners {
                for socket in listener.sockets {
                    group.addTask {
                        try? await socket.server.executeThenClose { connections in
                            try await withThrowingDiscardingTaskGroup { connectionGroup in
                                for try await connection in connections {
                                    connectionGroup.addTask { await handle(connection, listener.mapping) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
