import Logging
import NIOCore
import SPDY

/// The kubelet's side of a SPDY/3.1 port-forward, plain or tunnelled in a WebSocket
/// (cri-streaming portforward/httpstream.go over moby/spdystream): each local connection of the
/// client arrives as an error stream and a data stream sharing a `requestid`; once both exist,
/// the pod's port is dialed and bytes are copied; a dial failure is text on the error stream
/// then RST_STREAM(CANCEL) on both; a normal end is a FIN on both (wire doc 2.7).
///
/// The server never sends first (the client may lose bytes written right behind the 101), never
/// pings, and keeps no flow-control windows. Backpressure is TCP's, as in spdystream: a pod
/// connection that cannot take more stops reading the whole session; a session that cannot
/// take more stops reading every pod connection.
final class SPDYPortForwardHandler: ChannelInboundHandler, BackendRelayOwner {
    typealias InboundIn = SPDYFrame
    typealias OutboundOut = SPDYFrame

    private struct Pair {
        let requestID: String
        let port: Int
        var errorStream: UInt32?
        var dataStream: UInt32?
        var backend: (any Channel)?
        /// Client bytes that arrived while the pod connection was being dialed.
        var pending: [ByteBuffer] = []
        var clientFinished = false
        var creationTimeout: Scheduled<Void>?
        var halfCloseLinger: Scheduled<Void>?
    }

    /// The kubelet's stream-creation timeout: both streams of a pair must exist within it.
    static let streamCreationTimeout: TimeAmount = .seconds(30)
    /// containerd and CRI-O give the pod's direction about a second once the client's ends.
    static let halfCloseLinger: TimeAmount = .seconds(1)

    private let target: PortForwardTarget
    private let endpoint: @Sendable (Int) -> BackendEndpoint?
    private let logger: Logger
    private let connectionID: Int
    /// Told when the session comes to a standstill because its client is not reading (true):
    /// what it sends backs up and, once a pod connection backs up in turn, it stops reading the
    /// client too; and when it moves again (false). A busy client can cause a moment of it; a
    /// client that stopped reading keeps it.
    private let heldBack: @Sendable (Bool) -> Void
    private var isHeldBack = false
    private var readingPaused = false
    private var context: ChannelHandlerContext?
    private var pairs: [Int: Pair] = [:]
    private var pairByRequest: [String: Int] = [:]
    private var pairByStream: [UInt32: Int] = [:]
    private var nextPair = 0
    private var lastStreamID: UInt32 = 0
    private var repliesPending = false

    init(
        target: PortForwardTarget, connectionID: Int, endpoint: @escaping @Sendable (Int) -> BackendEndpoint?,
        heldBack: @escaping @Sendable (Bool) -> Void, logger: Logger
    ) {
        self.target = target
        self.connectionID = connectionID
        self.heldBack = heldBack
        self.endpoint = endpoint
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.closeAllBackends()
        self.setHeldBack(false)
    }

    /// Stops or resumes reading the client, as a pod connection can or cannot take more.
    private func pauseReading(_ paused: Bool, context: ChannelHandlerContext) {
        self.readingPaused = paused
        context.channel.setAutoRead(!paused)
        self.updateHeldBack(context: context)
    }

    private func updateHeldBack(context: ChannelHandlerContext) {
        self.setHeldBack(self.readingPaused && !context.channel.isWritable)
    }

    private func setHeldBack(_ held: Bool) {
        guard held != self.isHeldBack else { return }
        self.isHeldBack = held
        self.heldBack(held)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closeAllBackends()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("closing a SPDY port-forward connection", metadata: ["kubesim.error": "\(error)"])
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        for pair in self.pairs.values { pair.backend?.setAutoRead(writable) }
        self.updateHeldBack(context: context)
        context.fireChannelWritabilityChanged()
    }

    // MARK: frames from the client

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.repliesPending {
            self.repliesPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .synStream(let streamID, _, _, _, let headers):
            self.streamOpened(streamID, headers: headers, context: context)
        case .data(let streamID, let fin, let payload):
            self.data(streamID, fin: fin, payload: payload, context: context)
        case .rstStream(let streamID, _):
            if let index = self.pairByStream[streamID] { self.finish(index, context: context, notify: false) }
        case .ping(let id):
            // The client's pings are odd; the server's own would be even, and it sends none.
            if id % 2 == 1 { context.writeAndFlush(self.wrapOutboundOut(.ping(id: id)), promise: nil) }
        case .goAway:
            context.close(promise: nil)
        case .synReply, .settings, .headers, .windowUpdate:
            break
        }
    }

    private func streamOpened(_ streamID: UInt32, headers: SPDYHeaders, context: ChannelHandlerContext) {
        guard streamID > self.lastStreamID else {
            context.writeAndFlush(self.wrapOutboundOut(.rstStream(streamID: streamID, status: .protocolError)), promise: nil)
            return
        }
        self.lastStreamID = streamID
        guard let portText = headers["port"], let port = UInt16(portText), port > 0,
            let type = headers["streamtype"], type == "error" || type == "data"
        else {
            context.writeAndFlush(self.wrapOutboundOut(.rstStream(streamID: streamID, status: .cancel)), promise: nil)
            return
        }
        // Flushed once the read is done: a client that opens both streams of a pair at once gets
        // both replies in one record.
        context.write(self.wrapOutboundOut(.synReply(streamID: streamID, headers: SPDYHeaders())), promise: nil)
        self.repliesPending = true
        // Clients too old to send a request id pair streams by id: error n, data n + 2.
        let requestID = headers["requestid"] ?? String(type == "error" ? streamID : streamID &- 2)
        let index: Int
        if let existing = self.pairByRequest[requestID] {
            index = existing
        } else {
            index = self.nextPair
            self.nextPair += 1
            self.pairByRequest[requestID] = index
            self.pairs[index] = Pair(requestID: requestID, port: Int(port))
            self.pairs[index]?.creationTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: Self.streamCreationTimeout) { [self] in
                self.reportError(index, "(conn=\(self.connectionID), request=\(requestID)) timed out waiting for streams")
            }
        }
        guard var pair = self.pairs[index] else { return }
        if type == "error" {
            guard pair.errorStream == nil else {
                self.reportError(index, "(conn=\(self.connectionID), request=\(requestID)) error stream already assigned")
                return
            }
            pair.errorStream = streamID
        } else {
            guard pair.dataStream == nil else {
                self.reportError(index, "(conn=\(self.connectionID), request=\(requestID)) data stream already assigned")
                return
            }
            pair.dataStream = streamID
        }
        self.pairs[index] = pair
        self.pairByStream[streamID] = index
        if pair.errorStream != nil, pair.dataStream != nil {
            pair.creationTimeout?.cancel()
            self.dial(index, context: context)
        }
    }

    private func data(_ streamID: UInt32, fin: Bool, payload: ByteBuffer, context: ChannelHandlerContext) {
        guard let index = self.pairByStream[streamID], let pair = self.pairs[index], streamID == pair.dataStream else {
            return  // the error stream's FIN, or data for a stream that is gone
        }
        if payload.readableBytes > 0 {
            if let backend = pair.backend {
                backend.writeAndFlush(payload, promise: nil)
                if !backend.isWritable { self.pauseReading(true, context: context) }
            } else {
                self.pairs[index]?.pending.append(payload)
            }
        }
        if fin {
            self.pairs[index]?.clientFinished = true
            if let backend = pair.backend { self.halfClose(index, backend: backend, context: context) }
        }
    }

    /// The client will send no more: the pod reads its end of input, and gets a second to answer.
    private func halfClose(_ index: Int, backend: any Channel, context: ChannelHandlerContext) {
        backend.close(mode: .output, promise: nil)
        self.pairs[index]?.halfCloseLinger = context.eventLoop.assumeIsolated().scheduleTask(in: Self.halfCloseLinger) { [self] in
            guard let context = self.context else { return }
            self.finish(index, context: context, notify: true)
        }
    }

    // MARK: the pod side

    private func dial(_ index: Int, context: ChannelHandlerContext) {
        guard let port = self.pairs[index]?.port else { return }
        guard let endpoint = self.endpoint(port) else {
            self.reportError(index, self.target.dialFailure(port: port, reason: "dial tcp4 127.0.0.1:\(port): connect: connection refused"))
            return
        }
        let owner = NIOLoopBound<any BackendRelayOwner>(self, eventLoop: context.eventLoop)
        BackendRelayHandler.dial(endpoint, owner: owner, index: index).whenComplete { result in
            let handler = owner.value as! SPDYPortForwardHandler
            guard let context = handler.context, let pair = handler.pairs[index] else {
                if case .success(let channel) = result { channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let channel):
                handler.pairs[index]?.backend = channel
                handler.pairs[index]?.pending = []
                for buffer in pair.pending { channel.write(buffer, promise: nil) }
                channel.flush()
                channel.setAutoRead(context.channel.isWritable)
                if pair.clientFinished { handler.halfClose(index, backend: channel, context: context) }
            case .failure(let error):
                let reason = "dial tcp4 \(endpoint.host):\(endpoint.port): \(PortForwardTarget.goDialError(error))"
                handler.reportError(index, handler.target.dialFailure(port: port, reason: reason))
            }
        }
    }

    func backendRead(_ index: Int, _ buffer: ByteBuffer) {
        guard let context = self.context, let stream = self.pairs[index]?.dataStream else { return }
        context.writeAndFlush(self.wrapOutboundOut(.data(streamID: stream, fin: false, payload: buffer)), promise: nil)
        if !context.channel.isWritable {
            for pair in self.pairs.values { pair.backend?.setAutoRead(false) }
            self.updateHeldBack(context: context)
        }
    }

    func backendClosed(_ index: Int) {
        guard let context = self.context else { return }
        self.finish(index, context: context, notify: true)
    }

    func backendWritabilityChanged() {
        guard let context = self.context else { return }
        let allWritable = self.pairs.values.allSatisfy { $0.backend?.isWritable ?? true }
        self.pauseReading(!allWritable, context: context)
    }

    // MARK: ending a pair

    /// The copy failed: the text on the pair's error stream, then RST_STREAM(CANCEL) on both.
    private func reportError(_ index: Int, _ text: String) {
        guard let context = self.context, let pair = self.pairs[index] else { return }
        if let errorStream = pair.errorStream {
            context.write(self.wrapOutboundOut(.data(streamID: errorStream, fin: false, payload: ByteBuffer(string: text))), promise: nil)
        }
        for stream in [pair.errorStream, pair.dataStream].compactMap({ $0 }) {
            context.write(self.wrapOutboundOut(.rstStream(streamID: stream, status: .cancel)), promise: nil)
        }
        context.flush()
        self.finish(index, context: context, notify: false)
    }

    /// Ends a pair: its pod connection closes and, when `notify`, both streams get their FIN.
    private func finish(_ index: Int, context: ChannelHandlerContext, notify: Bool) {
        guard let pair = self.pairs[index] else { return }
        self.pairs[index] = nil
        self.pairByRequest[pair.requestID] = nil
        for stream in [pair.errorStream, pair.dataStream].compactMap({ $0 }) { self.pairByStream[stream] = nil }
        pair.creationTimeout?.cancel()
        pair.halfCloseLinger?.cancel()
        pair.backend?.close(promise: nil)
        guard notify, context.channel.isActive else { return }
        for stream in [pair.dataStream, pair.errorStream].compactMap({ $0 }) {
            context.write(self.wrapOutboundOut(.data(streamID: stream, fin: true, payload: ByteBuffer())), promise: nil)
        }
        context.flush()
    }

    private func closeAllBackends() {
        for pair in self.pairs.values {
            pair.backend?.close(promise: nil)
            pair.creationTimeout?.cancel()
            pair.halfCloseLinger?.cancel()
        }
    }
}
