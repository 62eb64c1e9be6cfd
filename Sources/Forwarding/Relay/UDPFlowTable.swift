import NIOCore

/// On a forward's local UDP socket: each peer address is a ``UDPFlow``, opened on its first
/// datagram (the forward opens its stream), closed after ``idleTimeout`` without a datagram
/// either way, as conntrack forgets a flow.
final class UDPFlowTable: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let idleTimeout: TimeAmount
    private let opened: (UDPFlow, any Channel) -> Void
    private let refused: (String, Int?) -> Void
    /// The socket's port, known once it is bound (the table is made before).
    private var localPort: Int?
    private var flows: [SocketAddress: UDPFlow] = [:]
    private var sweep: Scheduled<Void>?
    /// Flows written to during this read of the socket, flushed together at its end.
    private var touched: [UDPFlow] = []

    /// - Parameter opened: called on the event loop for each new flow, with the socket; the flow
    ///   waits for its stream.
    init(idleTimeout: TimeAmount, opened: @escaping (UDPFlow, any Channel) -> Void, refused: @escaping (String, Int?) -> Void) {
        self.idleTimeout = idleTimeout
        self.opened = opened
        self.refused = refused
    }

    func channelActive(context: ChannelHandlerContext) {
        self.localPort = context.channel.localAddress?.port
        self.scheduleSweep(on: context.eventLoop)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = self.unwrapInboundIn(data)
        guard envelope.data.readableBytes <= 65507 else { return }
        if let flow = self.flows[envelope.remoteAddress] {
            flow.send(envelope.data)
            self.touched.append(flow)
            return
        }
        let flow = UDPFlow(
            peer: envelope.remoteAddress,
            onClose: { [self] flow in
                if self.flows[flow.peer] === flow { self.flows.removeValue(forKey: flow.peer) }
            },
            onRefused: { [self] message in self.refused(message, self.localPort) }
        )
        self.flows[envelope.remoteAddress] = flow
        flow.send(envelope.data)
        self.opened(flow, context.channel)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        for flow in self.touched { flow.flush() }
        self.touched.removeAll(keepingCapacity: true)
        context.fireChannelReadComplete()
    }

    /// Ends the flows whose pod `isGone` says has left.
    func closeFlows(where isGone: (String) -> Bool) {
        for flow in Array(self.flows.values) where flow.pod.map(isGone) ?? false { flow.close() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.sweep?.cancel()
        for flow in Array(self.flows.values) { flow.close() }
        context.fireChannelInactive()
    }

    /// A peer's ICMP "port unreachable" arrives as a read error; the socket stays.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}

    private func scheduleSweep(on eventLoop: any EventLoop) {
        let interval = TimeAmount.nanoseconds(max(self.idleTimeout.nanoseconds / 4, 100_000_000))
        self.sweep = eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            let now = NIODeadline.now()
            for flow in Array(self.flows.values) where now - flow.lastActivity > self.idleTimeout { flow.close() }
            self.scheduleSweep(on: eventLoop)
        }
    }
}
