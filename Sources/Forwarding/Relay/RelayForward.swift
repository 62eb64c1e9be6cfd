import KubeClient
import NIOCore
import NIOPosix
import RelayProtocol
import Synchronization

/// A forward through kfwd's relay: UDP to a Service, to pods, or TCP or UDP to any address the
/// cluster can reach. Every local TCP connection, and every local UDP peer, is its own stream to
/// the relay pod of the namespace (``RelayPods``), which dials the target from inside the cluster.
struct RelayForward: Sendable {
    let forward: ResilientForward
    let relays: RelayPods
    let udp: Bool

    /// Where a stream goes: fixed per remote port (a Service's ClusterIP, an address), or a
    /// ready pod's address chosen per UDP flow, as kube-proxy pins a flow to an endpoint.
    private enum Targets {
        case fixed([RemotePort: RelayTarget])
        case pods
    }

    private var transportKind: RelayTransport { self.udp ? .udp : .tcp }

    func run(group: any EventLoopGroup, events: @escaping @Sendable (ForwardEvent) -> Void) async throws(ForwardError) {
        let forward = self.forward
        // The loop of every relay forward of the namespace: they share its relay pod's session.
        let loop = SessionLoop.loop(for: "\(forward.namespace)/relay", in: group)
        let client: KubeClient
        do { client = try forward.cache.client(for: forward.context) } catch { throw ForwardError(error) }

        // Bound before anything is dialed, as every forward's ports are.
        let (flows, flowOpened) = AsyncStream<(NIOLoopBound<UDPFlow>, PortMapping, any Channel)>.makeStream()
        defer { flowOpened.finish() }
        var tcp: ListenerSet?
        var udpSockets: UDPSockets?
        if self.udp {
            let idle = TimeAmount.seconds(Int64(self.relays.settings.flowIdleSeconds))
            udpSockets = try await UDPSockets.bind(forward.mappings, addresses: forward.addresses, on: loop, traffic: forward.traffic) { mapping in
                // Runs on the socket's loop, as its handler's callbacks do.
                UDPFlowTable(idleTimeout: idle, opened: { flow, socket in
                    flowOpened.yield((NIOLoopBound(flow, eventLoop: loop), mapping, socket))
                }, refused: { message, port in
                    events(.connectionFailed(local: port ?? mapping.local, remote: mapping.remote, ForwardError(code: .relay, message)))
                })
            }
            udpSockets?.announce(events)
        } else {
            tcp = try await ListenerSet.bind(forward.mappings, addresses: forward.addresses, group: loop, traffic: forward.traffic)
            tcp?.announce(events)
        }

        let targets: Targets
        do {
            targets = try await self.targets(client: client)
        } catch {
            await udpSockets?.close()
            for listener in tcp?.listeners ?? [] { await listener.close() }
            throw error
        }
        let fixed: Set<RelayRule>? = if case .fixed(let map) = targets { Set(map.values.map { RelayRule(self.transportKind, $0) }) } else { nil }
        let lease = await self.relays.lease(fixed ?? [], context: forward.context, namespace: forward.namespace, events: events)
        let transport = forward.transport.transport(client: client, events: events)
        let route = RelayRoute(
            relays: self.relays, lease: lease, transport: transport, namespace: forward.namespace, reportsRelay: fixed != nil,
            events: events
        )
        let serving = RelayServing(forward: self, route: route, tcp: tcp, udp: udpSockets, flows: flows, loop: loop, events: events)
        let failure: ForwardError?
        switch targets {
        case .fixed(let map):
            failure = await serving.run { mapping in map[mapping.remote] }
        case .pods:
            do {
                var outcome: ForwardError?
                try await forward.withPicker(context: forward.context, namespace: forward.namespace, route: nil, events: events) { picker in
                    outcome = await serving.run(pods: picker)
                }
                failure = outcome
            } catch {
                failure = (error as? ForwardError) ?? ForwardError("\(error)")
            }
        }
        transport.shutdown()
        await udpSockets?.close()
        // Not cancelled with the forward: the relay must be deleted on the way out.
        await Task { await self.relays.release(lease) }.value
        if let failure { throw failure }
    }

    /// Where each remote port's traffic goes: a Service's ClusterIP and port, the address, or
    /// (UDP to pods) chosen per flow.
    private func targets(client: KubeClient) async throws(ForwardError) -> Targets {
        var result: [RemotePort: RelayTarget] = [:]
        switch self.forward.target {
        case .service(let name):
            let service: Service
            do {
                service = try await client.get(Service.self, name, namespace: self.forward.namespace)
            } catch {
                throw error.isNotFound ? ForwardError(code: .serviceMissing, "service \(name) not found in namespace \(self.forward.namespace)") : ForwardError(error)
            }
            guard let clusterIP = service.spec?.clusterIP, clusterIP != "None", !clusterIP.isEmpty else {
                throw ForwardError(code: .invalidSpec, "service \(name) is headless (no ClusterIP): forward \(self.udp ? "UDP " : "")to its pods with -l SELECTOR")
            }
            let wanted = self.udp ? "UDP" : "TCP"
            for mapping in self.forward.mappings {
                let ports = service.spec?.ports ?? []
                let port = ports.first { port in
                    let same = switch mapping.remote {
                    case .number(let number): port.port == number
                    case .name(let portName): port.name == portName
                    }
                    return same && (port.protocol ?? "TCP") == wanted
                }
                guard let port else {
                    let have = ports.map { "\($0.port)/\($0.protocol ?? "TCP")\($0.name.map { " named \($0)" } ?? "")" }.joined(separator: ", ")
                    throw ForwardError(code: .portMissing, "service \(name) has no \(wanted) port \(mapping.remote) (its ports: \(have.isEmpty ? "none" : have))")
                }
                result[mapping.remote] = try Self.target(clusterIP, port.port)
            }
        case .address(let host):
            try self.forward.target.check(self.forward.mappings)
            for mapping in self.forward.mappings { result[mapping.remote] = try Self.target(host, mapping.remote.number ?? 0) }
        case .pod, .deployment, .selector:
            return .pods
        }
        return .fixed(result)
    }

    static func target(_ host: String, _ port: Int) throws(ForwardError) -> RelayTarget {
        do { return try RelayTarget(host: host, port: port) } catch { throw ForwardError(code: .invalidSpec, error.message) }
    }
}
