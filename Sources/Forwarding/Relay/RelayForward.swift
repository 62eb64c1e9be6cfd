import KubeClient
import NIOCore
import NIOPosix
import RelayProtocol
import Synchronization

/// A forward through kfwd's relay: UDP to a Service, or TCP or UDP to any address the cluster
/// can reach. Every local TCP connection, and every local UDP peer, is its own stream to the
/// relay pod of the namespace (``RelayPods``), which dials the target from inside the cluster.
struct RelayForward: Sendable {
    let forward: ResilientForward
    let relays: RelayPods
    let udp: Bool

    private var transportKind: RelayTransport { self.udp ? .udp : .tcp }

    func run(group: any EventLoopGroup, events: @escaping @Sendable (ForwardEvent) -> Void) async throws(ForwardError) {
        let forward = self.forward
        let loop = group.next()
        let client: KubeClient
        do { client = try forward.cache.client(for: forward.context) } catch { throw ForwardError(error.message) }

        // Bound before anything is dialed, as every forward's ports are.
        let (flows, flowOpened) = AsyncStream<(NIOLoopBound<UDPFlow>, PortMapping, any Channel)>.makeStream()
        var tcp: ListenerSet?
        var udpSockets: UDPSockets?
        if self.udp {
            let idle = TimeAmount.seconds(Int64(self.relays.settings.flowIdleSeconds))
            udpSockets = try await UDPSockets.bind(forward.mappings, addresses: forward.addresses, on: loop) { mapping in
                // Runs on the socket's loop, as its handler's callbacks do.
                UDPFlowTable(idleTimeout: idle, opened: { flow, socket in
                    flowOpened.yield((NIOLoopBound(flow, eventLoop: loop), mapping, socket))
                }, refused: { message, port in
                    events(.connectionFailed(local: port ?? mapping.local, remote: mapping.remote, PortForwardError(kind: .remote, message: message)))
                })
            }
            udpSockets?.announce(events)
        } else {
            tcp = try await ListenerSet.bind(forward.mappings, addresses: forward.addresses, group: loop)
            tcp?.announce(events)
        }
        defer { flowOpened.finish() }

        let targets: [Int: RelayTarget]
        do {
            targets = try await self.targets(client: client)
        } catch {
            await udpSockets?.close()
            for listener in tcp?.listeners ?? [] { await listener.close() }
            throw error
        }
        let lease = await self.relays.lease(
            Set(targets.values.map { RelayRule(self.transportKind, $0) }), context: forward.context, namespace: forward.namespace, events: events
        )
        let transport = forward.transport.transport(client: client) { events(.transport($0)) }
        let route = RelayRoute(relays: self.relays, lease: lease, transport: transport, namespace: forward.namespace, events: events)
        let failure: ForwardError? = await withTaskGroup(of: ForwardError?.self) { tasks in
            // The relay is deployed at start, not on the first connection; a relay that cannot
            // be deployed (no permission, an image that cannot be pulled) fails the forward.
            tasks.addTask {
                do {
                    try await route.withEndpoint { _ in }
                    return nil
                } catch {
                    return (error as? ForwardError) ?? ForwardError("\(error)")
                }
            }
            if let tcp {
                tasks.addTask {
                    await tcp.serve { local, mapping in
                        // Every mapping has its target (resolved above for each).
                        await self.serve(local, mapping: mapping, target: targets[mapping.remote]!, route: route, events: events)
                    }
                    return nil
                }
            }
            if udpSockets != nil {
                tasks.addTask {
                    await withDiscardingTaskGroup { flowTasks in
                        for await (flow, mapping, socket) in flows {
                            // The socket's own port: a mapping asking for a free port was bound to one.
                            let bound = PortMapping(local: socket.localAddress?.port ?? mapping.local, remote: mapping.remote)
                            flowTasks.addTask {
                                await self.serve(flow, socket: socket, mapping: bound, target: targets[mapping.remote]!, route: route, events: events)
                            }
                        }
                    }
                    return nil
                }
            }
            for await result in tasks {
                if let result {
                    tasks.cancelAll()
                    return result
                }
            }
            return nil
        }
        transport.shutdown()
        await udpSockets?.close()
        // Not cancelled with the forward: the relay must be deleted on the way out.
        await Task { await self.relays.release(lease) }.value
        if let failure { throw failure }
    }

    /// Where each remote port's traffic goes: a Service's ClusterIP and port, or the address.
    private func targets(client: KubeClient) async throws(ForwardError) -> [Int: RelayTarget] {
        var result: [Int: RelayTarget] = [:]
        switch self.forward.target {
        case .service(let name):
            let service: Service
            do {
                service = try await client.get(Service.self, name, namespace: self.forward.namespace)
            } catch {
                throw ForwardError(error.isNotFound ? "service \(name) not found in namespace \(self.forward.namespace)" : error.message)
            }
            guard let clusterIP = service.spec?.clusterIP, clusterIP != "None", !clusterIP.isEmpty else {
                throw ForwardError("service \(name) is headless (no ClusterIP): forward \(self.udp ? "UDP " : "")to one of its pods' addresses with ip/ADDRESS")
            }
            let wanted = self.udp ? "UDP" : "TCP"
            for mapping in self.forward.mappings {
                let ports = service.spec?.ports ?? []
                guard ports.contains(where: { $0.port == mapping.remote && ($0.protocol ?? "TCP") == wanted }) else {
                    let have = ports.map { "\($0.port)/\($0.protocol ?? "TCP")" }.joined(separator: ", ")
                    throw ForwardError("service \(name) has no \(wanted) port \(mapping.remote) (its ports: \(have.isEmpty ? "none" : have))")
                }
                result[mapping.remote] = try Self.target(clusterIP, mapping.remote)
            }
        case .address(let host):
            for mapping in self.forward.mappings { result[mapping.remote] = try Self.target(host, mapping.remote) }
        case .pod, .deployment, .selector:
            throw ForwardError(
                "UDP to \(self.forward.target) is not supported yet: forward UDP to a Service (svc/NAME --udp) or to an address (ip/ADDRESS --udp)"
            )
        }
        return result
    }

    private static func target(_ host: String, _ port: Int) throws(ForwardError) -> RelayTarget {
        do { return try RelayTarget(host: host, port: port) } catch { throw ForwardError(error.message) }
    }
}
