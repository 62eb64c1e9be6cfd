import ChannelGlue
import NIOCore

/// The local sockets of every port mapping of a forward, all bound before anything is dialed,
/// and the accept loops that hand each connection to the forward.
struct ListenerSet: Sendable {
    let listeners: [LocalListener]

    /// Binds every mapping; on any failure the ones already bound are closed again.
    /// - Parameter accepted: decides for each accepted connection, on its event loop, whether
    ///   it is served there (``LocalListener/Accepted``).
    static func bind(
        _ mappings: [PortMapping], addresses: ListenAddresses, group: any EventLoopGroup, traffic: TrafficCounter?,
        accepted: LocalListener.Accepted? = nil
    ) async throws(ForwardError) -> ListenerSet {
        var listeners: [LocalListener] = []
        for mapping in mappings {
            do {
                listeners.append(try await LocalListener.bind(mapping, addresses: addresses, group: group, traffic: traffic, accepted: accepted))
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

    /// Serves until cancelled, then closes the sockets and every connection still open. The
    /// connections not served on their event loop run `handle` in a child task each, with what
    /// the loop decided for them, and must close the connection when done and catch their own
    /// errors; `events` gets what the loops report.
    func serve(
        events: @escaping @Sendable (ForwardEvent) -> Void, _ handle: @escaping @Sendable (any Channel, PortMapping, ConnectionMachine?) async -> Void
    ) async {
        await withDiscardingTaskGroup { group in
            for listener in self.listeners {
                let connections = listener.connections
                group.addTask {
                    for await batch in connections.events {
                        for event in batch { events(event) }
                    }
                }
                group.addTask {
                    await withDiscardingTaskGroup { tasks in
                        for await handoff in connections.forTasks {
                            tasks.addTask { await handle(handoff.local, listener.mapping, handoff.machine) }
                        }
                    }
                }
            }
        }
        for listener in self.listeners { await listener.close() }
    }
}
