import ChannelGlue
import NIOCore
import NIOPosix

/// The UDP half of ``ServiceProxy`` on one ClusterIP port: each client address is a flow, as
/// conntrack tracks it, pinned to the endpoint picked for its first datagram; replies go back
/// from the ClusterIP, as the reverse NAT makes them. A flow is forgotten after 30 s without a
/// datagram (nf_conntrack_udp_timeout) or as soon as its endpoint is no longer ready (kube-proxy
/// clears conntrack entries of removed UDP endpoints: pkg/proxy/conntrack/cleanup.go).
final class UDPBalancerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private final class Flow {
        let endpoint: BackendEndpoint
        var backend: (any Channel)?
        /// Datagrams that arrived while the flow's socket was being opened.
        var queued: [ByteBuffer] = []
        var lastSeen = NIODeadline.now()

        init(endpoint: BackendEndpoint) {
            self.endpoint = endpoint
        }
    }

    static let flowTimeout: TimeAmount = .seconds(30)
    static let sweepInterval: TimeAmount = .seconds(1)

    private let pick: @Sendable () -> BackendEndpoint?
    private let isReady: @Sendable (BackendEndpoint) -> Bool
    private var flows: [SocketAddress: Flow] = [:]
    private var sweep: Scheduled<Void>?

    init(pick: @escaping @Sendable () -> BackendEndpoint?, isReady: @escaping @Sendable (BackendEndpoint) -> Bool) {
        self.pick = pick
        self.isReady = isReady
    }

    func channelActive(context: ChannelHandlerContext) {
        self.scheduleSweep(on: context.eventLoop)
        context.fireChannelActive()
    }

    private func scheduleSweep(on eventLoop: any EventLoop) {
        self.sweep = eventLoop.assumeIsolated().scheduleTask(in: Self.sweepInterval) { [self] in
            let now = NIODeadline.now()
            for (client, flow) in self.flows where now - flow.lastSeen > Self.flowTimeout || !self.isReady(flow.endpoint) {
                self.flows.removeValue(forKey: client)
                flow.backend?.close(promise: nil)
            }
            self.scheduleSweep(on: eventLoop)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.sweep?.cancel()
        for flow in self.flows.values { flow.backend?.close(promise: nil) }
        self.flows.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = self.unwrapInboundIn(data)
        let client = envelope.remoteAddress
        if let flow = self.flows[client] {
            flow.lastSeen = .now()
            if let backend = flow.backend {
                backend.writeAndFlush(AddressedEnvelope(remoteAddress: backend.remoteAddress ?? client, data: envelope.data), promise: nil)
            } else {
                flow.queued.append(envelope.data)
            }
            return
        }
        guard let endpoint = self.pick() else { return }
        let flow = Flow(endpoint: endpoint)
        flow.queued.append(envelope.data)
        self.flows[client] = flow
        let server = context.channel
        DatagramBootstrap(group: context.eventLoop)
            .readingWholeDatagrams()
            .channelInitializer { backend in
                backend.eventLoop.makeCompletedFuture {
                    try backend.pipeline.syncOperations.addHandler(ReplyHandler(server: server, client: client))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolated()
            .whenComplete { [self] result in
                guard self.flows[client] === flow else {
                    if case .success(let backend) = result { backend.close(promise: nil) }
                    return
                }
                switch result {
                case .success(let backend):
                    flow.backend = backend
                    for datagram in flow.queued {
                        backend.write(AddressedEnvelope(remoteAddress: backend.remoteAddress ?? client, data: datagram), promise: nil)
                    }
                    flow.queued.removeAll()
                    backend.flush()
                case .failure:
                    self.flows.removeValue(forKey: client)
                }
            }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}

    /// On a flow's socket to its endpoint: sends what the endpoint answers to the client.
    private final class ReplyHandler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>

        private let server: any Channel
        private let client: SocketAddress

        init(server: any Channel, client: SocketAddress) {
            self.server = server
            self.client = client
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.server.writeAndFlush(AddressedEnvelope(remoteAddress: self.client, data: self.unwrapInboundIn(data).data), promise: nil)
        }

        /// The endpoint's ICMP "port unreachable" arrives as a read error; the flow stays.
        func errorCaught(context: ChannelHandlerContext, error: any Error) {}
    }
}
