import NIOCore
import SPDY

/// The client side of one SPDY session to one pod (plain, or inside the WebSocket tunnel):
/// it opens a stream pair per local connection (client-go's order: error stream, its FIN, data
/// stream; all sent at once rather than waiting a round trip for each reply), routes the pod's
/// frames to the pair they belong to, pings to keep the path alive and to notice a dead one,
/// and answers the server's pings.
///
/// Unlike client-go, an error on one pair ends that pair only; the session lives on. A GOAWAY
/// from the server stops new pairs; the session closes when its last pair ends.
///
/// SPDY here has no flow control (spdystream ignores it), so a local reader that stops reading
/// can only be held back by not reading the session: the session then stops reading (every pair
/// on it waits, as in spdystream) and stops being ``isUsable``, so that new connections go to
/// another session instead of waiting behind it.
final class SPDYClientSessionHandler: ChannelInboundHandler {
    typealias InboundIn = SPDYFrame
    typealias OutboundOut = SPDYFrame

    private var context: ChannelHandlerContext?
    /// Open pairs by error-stream id. Each pair takes ids n and n + 2 with n ≡ 1 (mod 4), so
    /// any stream id names its pair.
    private var pairs: [UInt32: SPDYStreamPair] = [:]
    private var nextStreamID: UInt32 = 1
    private var nextRequestID = 0
    private var nextPingID: UInt32 = 1
    private let pingPeriod: TimeAmount
    private var pinger: RepeatedTask?
    private var lastReceived = NIODeadline.now()
    private var goingAway = false
    /// Out of the pool: it closes once its last pair ends. A pooled session stays open while
    /// idle (its pings are not API requests): the pool lets go of it when its pod does.
    private var retired = false
    private var stalledBy: Set<ObjectIdentifier> = []
    private var pendingFlush: [SPDYStreamPair] = []
    /// Frames for the server go out together at the end of the event loop's turn: the pairs
    /// opened, fed and ended in one turn (connections accepted together, several local reads)
    /// share a TLS record and a write.
    private var flushScheduled = false
    /// Why the session ended, for the pairs still open on it.
    private var failure: PortForwardError?
    private let describe: (String, Int) -> PortForwardError
    private let heldBack: () -> Void

    /// - Parameters:
    ///   - pingPeriod: client-go's: 5 s on plain SPDY, 10 s in the tunnel.
    ///   - describe: turns error-stream text for a port into the user's error.
    ///   - heldBack: told each time a pair's local reader first falls behind and stops the session.
    init(pingPeriod: TimeAmount, describe: @escaping (String, Int) -> PortForwardError, heldBack: @escaping () -> Void) {
        self.pingPeriod = pingPeriod
        self.describe = describe
        self.heldBack = heldBack
    }

    /// Whether new pairs may be opened: connected, not told to go away, not retired, not held
    /// up by a slow local reader, stream ids left.
    var isUsable: Bool { self.unusable == nil }

    /// Why ``openPair(port:)`` opens nothing now; nil when it would.
    var unusable: String? {
        if self.context?.channel.isActive != true { return "its connection closed" }
        if self.goingAway { return "the API server told it to go away" }
        if self.retired { return "it was retired (no forward wants its pod any more, or the network changed)" }
        if !self.stalledBy.isEmpty { return "a slow local reader holds it up" }
        if self.nextStreamID >= 0x7FFF_FFF0 { return "it ran out of stream ids" }
        return nil
    }

    private func pair(of streamID: UInt32) -> SPDYStreamPair? {
        self.pairs[streamID % 4 == 3 ? streamID &- 2 : streamID]
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.lastReceived = .now()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.pinger = context.eventLoop.scheduleRepeatedTask(initialDelay: self.pingPeriod, delay: self.pingPeriod) { _ in
            handler.value.keepAlive()
        }
        self.becameIdle()
    }

    /// Takes the session out of use: it closes now if idle, else when its last pair ends.
    func retire() {
        self.retired = true
        if self.pairs.isEmpty { self.closeFlushed() }
    }

    /// Closes the session, failing its pairs, unless the server sends something (a ping's echo
    /// at least) within `deadline`: after a network change its connection may be dead without
    /// knowing it, and its pairs had better fail now than after the ping timeout.
    func verify(within deadline: TimeAmount) {
        guard let context, context.channel.isActive else { return }
        let asked = NIODeadline.now()
        self.ping(context)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: deadline) {
            let session = handler.value
            // A session held back by a slow local reader reads nothing, echoes included: as with
            // the pings, silence proves nothing there.
            guard session.lastReceived < asked, session.stalledBy.isEmpty, let context = session.context, context.channel.isActive else { return }
            session.failure = PortForwardError(
                kind: .transport, message: "the SPDY port-forward session did not answer after the network changed"
            )
            context.close(promise: nil)
        }
    }

    private func becameIdle() {
        if self.retired || self.goingAway { self.closeFlushed() }
    }

    /// Closes the session once done with it, after what is written for the server (a flush
    /// waiting for the end of the turn, say) has gone out: a close drops unflushed writes.
    private func closeFlushed() {
        self.context?.flush()
        self.context?.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.pinger?.cancel()
        self.context = nil
    }

    // MARK: pairs

    /// Opens the two streams of one forwarded connection to `port`, or nil when the session
    /// cannot take more.
    func openPair(port: Int) -> SPDYStreamPair? {
        guard let context, self.isUsable else { return nil }
        let errorID = self.nextStreamID
        let dataID = errorID + 2
        self.nextStreamID += 4
        let requestID = String(self.nextRequestID)
        self.nextRequestID += 1
        let pair = SPDYStreamPair(errorID: errorID, dataID: dataID, port: port, session: self, eventLoop: context.eventLoop)
        self.pairs[errorID] = pair
        let headers: (String) -> SPDYHeaders = { type in ["streamtype": type, "port": String(port), "requestid": requestID] }
        context.write(self.wrapOutboundOut(.synStream(streamID: errorID, headers: headers("error"))), promise: nil)
        // The client never writes on the error stream: half-closed at once, as client-go does.
        context.write(self.wrapOutboundOut(.data(streamID: errorID, fin: true, payload: ByteBuffer())), promise: nil)
        context.write(self.wrapOutboundOut(.synStream(streamID: dataID, headers: headers("data"))), promise: nil)
        self.flush()
        return pair
    }

    func send(_ payload: ByteBuffer, on streamID: UInt32, fin: Bool = false, flush: Bool) {
        guard let context else { return }
        context.write(self.wrapOutboundOut(.data(streamID: streamID, fin: fin, payload: payload)), promise: nil)
        if flush { self.flush() }
    }

    /// Flushes at the end of this turn of the event loop.
    func flush() {
        guard !self.flushScheduled, let context else { return }
        self.flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            self.flushScheduled = false
            self.context?.flush()
        }
    }

    func reset(_ streamID: UInt32) {
        self.context?.write(self.wrapOutboundOut(.rstStream(streamID: streamID, status: .cancel)), promise: nil)
        self.flush()
    }

    /// The pair is over on both sides: its ids are forgotten (frames for them are dropped).
    func release(_ pair: SPDYStreamPair) {
        guard self.pairs.removeValue(forKey: pair.errorID) != nil else { return }
        self.resume(for: pair)
        if self.pairs.isEmpty { self.becameIdle() }
    }

    var isWritable: Bool { self.context?.channel.isWritable ?? false }

    /// A pair's local reader cannot take more: stop reading the session until it can. The
    /// first time a pair holds the session back is reported (``heldBack``).
    func stall(for pair: SPDYStreamPair, firstTime: Bool) {
        guard self.stalledBy.insert(ObjectIdentifier(pair)).inserted else { return }
        if self.stalledBy.count == 1 { self.context?.channel.setOption(.autoRead, value: false).whenFailure { _ in } }
        if firstTime { self.heldBack() }
    }

    func resume(for pair: SPDYStreamPair) {
        guard self.stalledBy.remove(ObjectIdentifier(pair)) != nil, self.stalledBy.isEmpty else { return }
        self.context?.channel.setOption(.autoRead, value: true).whenFailure { _ in }
    }

    /// A pair wrote to its local connection in this read (told once per read): flushed at the
    /// read's end.
    func needsFlush(_ pair: SPDYStreamPair) {
        self.pendingFlush.append(pair)
    }

    // MARK: frames from the server

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.lastReceived = .now()
        switch self.unwrapInboundIn(data) {
        case .data(let streamID, let fin, let payload):
            guard let pair = self.pair(of: streamID) else { return }
            if streamID == pair.dataID {
                pair.podSent(payload, fin: fin)
            } else {
                pair.errorStreamSent(payload, fin: fin)
            }
        case .synReply:
            break
        case .rstStream(let streamID, let status):
            self.pair(of: streamID)?.podReset(streamID, status: status)
        case .ping(let id):
            // Ours are odd and their echo needs nothing more; the server's even ones are echoed.
            if id % 2 == 0 { context.writeAndFlush(self.wrapOutboundOut(.ping(id: id)), promise: nil) }
        case .goAway:
            self.goingAway = true
            if self.pairs.isEmpty { self.closeFlushed() }
        case .synStream(let streamID, _, _, _, _):
            // Kubernetes servers never open streams.
            context.writeAndFlush(self.wrapOutboundOut(.rstStream(streamID: streamID, status: .refusedStream)), promise: nil)
        case .settings, .headers, .windowUpdate:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let pending = self.pendingFlush
        self.pendingFlush = []
        for pair in pending { pair.flushLocal() }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            for pair in self.pairs.values { pair.sessionBecameWritable() }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.failure == nil {
            self.failure = PortForwardError(kind: .transport, message: "the SPDY port-forward session broke: \(error)")
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pinger?.cancel()
        let failure = self.failure ?? PortForwardError(kind: .transport, message: "the SPDY port-forward session closed")
        let ended = Array(self.pairs.values)
        self.pairs = [:]
        for pair in ended { pair.sessionEnded(failure) }
        context.fireChannelInactive()
    }

    // MARK: keepalive

    /// Pings every period; a session that has heard nothing for two periods (not even a ping's
    /// echo) while it was reading is dead, and closing it fails its pairs now rather than when
    /// TCP gives up.
    private func keepAlive() {
        guard let context else { return }
        if self.stalledBy.isEmpty, NIODeadline.now() - self.lastReceived > self.pingPeriod * 2 {
            self.failure = PortForwardError(
                kind: .transport, message: "the SPDY port-forward session went silent (no answer to pings for \(self.pingPeriod * 2))"
            )
            context.close(promise: nil)
            return
        }
        self.ping(context)
    }

    /// Sends the next of the client's (odd) ping ids.
    private func ping(_ context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(.ping(id: self.nextPingID)), promise: nil)
        self.nextPingID &+= 2
        if self.nextPingID > 0x7FFF_FFFF { self.nextPingID = 1 }
    }

    /// The user's error for text the pod's runtime wrote on a pair's error stream.
    func error(for text: String, port: Int) -> PortForwardError {
        self.describe(text, port)
    }
}
