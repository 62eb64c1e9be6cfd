import ChannelGlue
import KubeLabels
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// kube-proxy for KubeSim's node: every Service port with a ClusterIP is served on that address
/// (a 127.x loopback address here), TCP and UDP, and each new connection or UDP flow goes to a
/// ready endpoint of the Service's EndpointSlices, picked at random as the iptables proxier does
/// (pkg/proxy/iptables/proxier.go, "statistic --mode random"). A Service with no ready endpoint
/// refuses TCP connections (the REJECT rule of the same file) and drops datagrams.
final class ServiceProxy: Sendable {
    private struct PortKey: Hashable {
        let address: String
        let port: Int
        let udp: Bool
    }

    private struct Served {
        let service: ObjectKey
        let portName: String
        let channel: any Channel
    }

    private let api: ClusterAPI
    private let backends: PodBackends
    private let group: any EventLoopGroup
    private let logger: Logger
    private let served = Mutex<[PortKey: Served]>([:])

    init(api: ClusterAPI, backends: PodBackends, group: any EventLoopGroup, logger: Logger) {
        self.api = api
        self.backends = backends
        self.group = group
        self.logger = logger
    }

    func run() async {
        let filter = WatchFilter(resource: .services, namespace: nil, labels: .everything, fields: .everything)
        for await event in ControllerEvents(store: self.api.store, filter: filter) {
            let key = ObjectKey(
                resource: .services, namespace: event.object[path: ["metadata", "namespace"]]?.stringValue ?? "",
                name: event.object[path: ["metadata", "name"]]?.stringValue ?? ""
            )
            await self.reconcile(key)
        }
        let all = self.served.withLock { served in
            defer { served.removeAll() }
            return served.values.map(\.channel)
        }
        for channel in all { try? await channel.close() }
    }

    private func reconcile(_ key: ObjectKey) async {
        var wanted: [PortKey: String] = [:]
        if let service = self.api.store.get(key), let address = service[path: ["spec", "clusterIP"]]?.stringValue,
            address != "None", !address.isEmpty
        {
            for port in service[path: ["spec", "ports"]]?.arrayValue ?? [] {
                guard let number = port["port"]?.intValue else { continue }
                let udp = port["protocol"]?.stringValue == "UDP"
                wanted[PortKey(address: address, port: number, udp: udp)] = port["name"]?.stringValue ?? ""
            }
        }
        let stale = self.served.withLock { served in
            let gone = served.filter { $0.value.service == key && wanted[$0.key] != $0.value.portName }
            for entry in gone { served.removeValue(forKey: entry.key) }
            return gone.map(\.value.channel)
        }
        for channel in stale { try? await channel.close() }
        for (port, name) in wanted where self.served.withLock({ $0[port] == nil }) {
            do {
                let channel = try await self.listen(port, service: key, portName: name)
                self.served.withLock { $0[port] = Served(service: key, portName: name, channel: channel) }
            } catch {
                self.logger.warning(
                    "cannot serve the service's cluster IP",
                    metadata: ["kubesim.service": "\(key.namespace)/\(key.name)", "kubesim.address": "\(port.address):\(port.port)", "error": "\(error)"]
                )
            }
        }
    }

    private func listen(_ port: PortKey, service: ObjectKey, portName: String) async throws -> any Channel {
        let pick: @Sendable () -> BackendEndpoint? = { [self] in self.readyEndpoints(service, portName: portName, udp: port.udp).randomElement() }
        if port.udp {
            let isReady: @Sendable (BackendEndpoint) -> Bool = { [self] endpoint in
                self.readyEndpoints(service, portName: portName, udp: true).contains(endpoint)
            }
            return try await DatagramBootstrap(group: self.group)
                .readingWholeDatagrams()
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPBalancerHandler(pick: pick, isReady: isReady))
                    }
                }
                .bind(host: port.address, port: port.port).get()
        }
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { client in
                // The child is registered (and reads) only once this future succeeds: nothing is
                // read before the backend is connected. A failure closes it, as a REJECT does.
                guard let endpoint = pick() else {
                    return client.eventLoop.makeFailedFuture(ChannelError.connectPending)
                }
                return ClientBootstrap(group: client.eventLoop)
                    .channelOption(.allowRemoteHalfClosure, value: true)
                    .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .connect(literalOrHost: endpoint.host, port: endpoint.port)
                    .flatMapThrowing { backend in
                        let (clientSide, backendSide) = GlueHandler.pair()
                        try client.pipeline.syncOperations.addHandler(clientSide)
                        try backend.pipeline.syncOperations.addHandler(backendSide)
                    }
            }
            .bind(host: port.address, port: port.port).get()
    }

    /// Where the ready endpoints of one Service port really listen on this machine.
    private func readyEndpoints(_ service: ObjectKey, portName: String, udp: Bool) -> [BackendEndpoint] {
        let slices = self.api.store.list(WatchFilter(
            resource: .endpointSlices, namespace: service.namespace,
            labels: LabelSelector(matchLabels: ["kubernetes.io/service-name": service.name]), fields: .everything
        )).items
        var result: [BackendEndpoint] = []
        for slice in slices {
            let ports: [JSON] = slice["ports"]?.arrayValue ?? []
            let matching = ports.first { port in
                let name = port["name"]?.stringValue ?? ""
                let isUDP = port["protocol"]?.stringValue == "UDP"
                return name == portName && isUDP == udp
            }
            guard let number = matching?["port"]?.intValue else { continue }
            let endpoints: [JSON] = slice["endpoints"]?.arrayValue ?? []
            for endpoint in endpoints where endpoint[path: ["conditions", "ready"]]?.boolValue ?? true {
                let uid = endpoint[path: ["targetRef", "uid"]]?.stringValue
                if let uid, let real = self.backends.endpoint(podUID: uid, port: number) {
                    result.append(real)
                } else if let address = endpoint["addresses"]?.arrayValue?.first?.stringValue {
                    result.append(BackendEndpoint(host: address, port: number))
                }
            }
        }
        return result
    }
}
