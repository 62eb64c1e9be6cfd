import NIOCore
import SPDY

/// The error and data streams of one forwarded connection on a SPDY session, and the local
/// connection they carry once spliced. Lives on the session's event loop.
///
/// Until the pod sends its first byte, a copy of what the local side sent is kept (up to
/// ``ReplayGuard/limit``): if the runtime then reports on the error stream that it could not
/// reach the port, or resets the streams, the pod never saw those bytes and the connection can
/// be replayed on another pod.
final class SPDYStreamPair {
    let errorID: UInt32
    let dataID: UInt32
    let port: Int
    private let session: SPDYClientSessionHandler
    /// Completed when the pod's side has ended: FIN or reset on the data stream, or the session
    /// gone.
    let podSideEnded: EventLoopPromise<Void>

    private var localContext: ChannelHandlerContext?
    private var held: [ByteBuffer] = []
    private var responseStarted = false
    private var replay: ByteBuffer? = ByteBuffer()
    /// The error stream's bytes, read as text once whole (a frame may come in parts).
    private var errorBytes = ByteBuffer()
    private var reset: SPDYFrame.RSTStatus?
    private var sessionFailure: PortForwardError?
    private var podEnded = false
    private var localFinished = false
    private var pendingRead = false
    /// Written to the local connection in the session's current read, flushed at its end.
    private var flushPending = false
    /// Whether the local reader has fallen behind before (the session reports the first time).
    private var hasStalled = false

    init(errorID: UInt32, dataID: UInt32, port: Int, session: SPDYClientSessionHandler, eventLoop: any EventLoop) {
        self.errorID = errorID
        self.dataID = dataID
        self.port = port
        self.session = session
        self.podSideEnded = eventLoop.makePromise()
    }

    // MARK: the pod's side (from the session)

    func podSent(_ payload: ByteBuffer, fin: Bool) {
        if payload.readableBytes > 0 {
            self.responseStarted = true
            self.replay = nil
            if let localContext {
                localContext.write(NIOAny(payload), promise: nil)
                if !self.flushPending {
                    self.flushPending = true
                    self.session.needsFlush(self)
                }
            } else {
                self.held.append(payload)
            }
        }
        if fin { self.podFinished() }
    }

    func errorStreamSent(_ payload: ByteBuffer, fin: Bool) {
        var payload = payload
        self.errorBytes.writeBuffer(&payload)
    }

    func podReset(_ streamID: UInt32, status: SPDYFrame.RSTStatus) {
        guard streamID == self.dataID || self.reset == nil else { return }
        self.reset = status
        // The runtime resets both streams after an error; the data stream's reset ends the pair.
        if streamID == self.dataID { self.podFinished() }
    }

    func sessionEnded(_ failure: PortForwardError) {
        self.sessionFailure = failure
        self.podFinished()
    }

    func flushLocal() {
        self.flushPending = false
        guard let localContext else { return }
        localContext.flush()
        self.stallIfBehind(localContext)
    }

    /// Still over the high-water mark once flushed: the local reader is behind (not merely
    /// handed one large frame), so the session stops reading until it catches up.
    private func stallIfBehind(_ localContext: ChannelHandlerContext) {
        guard !localContext.channel.isWritable else { return }
        self.session.stall(for: self, firstTime: !self.hasStalled)
        self.hasStalled = true
    }

    func sessionBecameWritable() {
        if self.pendingRead, let localContext {
            self.pendingRead = false
            localContext.read()
        }
    }

    /// What ended the pair badly, if anything did.
    private var failure: PortForwardError? {
        if self.errorBytes.readableBytes > 0 { return self.session.error(for: String(buffer: self.errorBytes), port: self.port) }
        if let reset = self.reset, !self.responseStarted {
            // A reset with no reply and no text: the runtime refused the streams themselves.
            return PortForwardError(kind: .rejected, message: "the pod's runtime refused the port-forward streams to port \(self.port) (RST_STREAM \(reset))")
        }
        return self.sessionFailure
    }

    /// The failure, when another pod can make it good: nothing came back and the pod provably
    /// never got what was sent.
    private var retryable: (error: PortForwardError, replay: ByteBuffer)? {
        guard let failure = self.failure, failure.backendNeverSawData, !self.responseStarted, let replay = self.replay else { return nil }
        return (failure, replay)
    }

    private func podFinished() {
        guard !self.podEnded else { return }
        self.podEnded = true
        self.session.release(self)
        if let localContext {
            if self.retryable != nil {
                // Kept open and not reading: the splice hands it to another pod.
                localContext.channel.setOption(.autoRead, value: false).whenFailure { _ in }
            } else {
                let channel = localContext.channel
                localContext.writeAndFlush(NIOAny(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
            }
        }
        if !self.localFinished, self.reset == nil, self.sessionFailure == nil {
            // client-go resets the data stream once the pod's side is done.
            self.session.reset(self.dataID)
        }
        self.podSideEnded.succeed()
    }

    // MARK: the local side

    /// Joins the local connection (nil once the pod's side already ended), sending `replaying`
    /// first and then delivering what the pod sent meanwhile.
    func attach(_ handler: SPDYLocalHandler, to local: any Channel, replaying: ByteBuffer) throws -> Bool {
        if self.podEnded {
            // Nothing of this connection went through the pair: what it hands back is what the
            // caller handed in.
            self.replay = replaying
            return false
        }
        try local.pipeline.syncOperations.addHandler(handler)
        if replaying.readableBytes > 0 { self.localRead(replaying) }
        for buffer in self.held { self.localContext?.write(NIOAny(buffer), promise: nil) }
        self.held = []
        if let localContext {
            localContext.flush()
            self.stallIfBehind(localContext)
        }
        self.session.flush()
        try local.syncOptions?.setOption(.autoRead, value: true)
        // Joined as it was accepted, the connection is not registered yet: it reads once active,
        // auto-read being on. A read() now would mark a read pending that NIO never arms.
        if local.isActive { local.read() }
        return true
    }

    func handlerAdded(_ context: ChannelHandlerContext) {
        self.localContext = context
    }

    func localRead(_ buffer: ByteBuffer) {
        guard !self.podEnded else {
            // Read after a retryable failure stopped the reads: it goes with the replay.
            if var replay = self.replay {
                var buffer = buffer
                replay.writeBuffer(&buffer)
                self.replay = replay
            }
            return
        }
        if var replay = self.replay {
            if replay.readableBytes + buffer.readableBytes > ReplayGuard.limit {
                self.replay = nil
            } else {
                var copy = buffer
                replay.writeBuffer(&copy)
                self.replay = replay
            }
        }
        self.session.send(buffer, on: self.dataID, flush: false)
    }

    func localReadComplete() {
        self.session.flush()
    }

    func localInputClosed() {
        guard !self.podEnded, !self.localFinished else { return }
        self.localFinished = true
        self.session.send(ByteBuffer(), on: self.dataID, fin: true, flush: true)
    }

    func localClosed() {
        self.localContext = nil
        guard !self.podEnded else { return }
        self.session.reset(self.dataID)
        self.localFinished = true
        self.podFinished()
    }

    func localWritable() {
        self.session.resume(for: self)
    }

    /// Reads from the local connection only while the session can send.
    func localWantsRead(_ context: ChannelHandlerContext) {
        if self.session.isWritable {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    /// Once the pod's side ended: how the splice ends. A retryable failure leaves the local
    /// connection to the caller (its handler removed, not reading).
    func conclude(removing handler: SPDYLocalHandler?, from local: any Channel) -> Result<SpliceOutcome, PortForwardError> {
        if let retry = self.retryable, local.isActive {
            if let handler { _ = local.pipeline.syncOperations.removeHandler(handler) }
            self.localContext = nil
            local.setOption(.autoRead, value: false).whenFailure { _ in }
            return .success(.refusedBeforeResponse(retry.error, replay: retry.replay))
        }
        if handler == nil { local.close(promise: nil) }
        if let failure = self.failure { return .failure(failure) }
        return .success(.finished)
    }

    /// Gives the streams up unused.
    func abandon() {
        guard !self.podEnded else { return }
        self.localFinished = true
        self.session.reset(self.dataID)
        self.podFinished()
    }
}
