import NIOCore

/// One forwarded connection on a SPDY session: a ``SPDYStreamPair`` opened on the session's
/// event loop, which is also the local connection's (sessions are kept per event loop).
final class SPDYPortForwardStream: PortForwardStream {
    private let pair: NIOLoopBound<SPDYStreamPair>
    private let podSideEnded: EventLoopFuture<Void>
    private let ended: SPDYStreamPair.EndedFlag

    init(pair: SPDYStreamPair, eventLoop: any EventLoop) {
        self.pair = NIOLoopBound(pair, eventLoop: eventLoop)
        self.podSideEnded = pair.podSideEnded.futureResult
        self.ended = pair.ended
    }

    func splice(with local: any Channel, replaying: ByteBuffer) async throws(PortForwardError) -> SpliceOutcome {
        let eventLoop = self.pair.eventLoop
        precondition(local.eventLoop === eventLoop, "a stream must be opened on its local connection's event loop")
        let pair = self.pair
        let attached: NIOLoopBound<SPDYLocalHandler>?
        do {
            attached = try await eventLoop.submit {
                let handler = SPDYLocalHandler(pair: pair.value)
                return try pair.value.attach(handler, to: local, replaying: replaying) ? NIOLoopBound(handler, eventLoop: eventLoop) : nil
            }.get()
        } catch {
            pair.value.abandon()
            local.close(promise: nil)
            throw PortForwardError(kind: .transport, message: "joining the local connection to its stream failed: \(error)")
        }
        try? await self.podSideEnded.get()
        let outcome = try? await eventLoop.submit {
            pair.value.conclude(removing: attached?.value, from: local)
        }.get()
        switch outcome {
        case .success(.refusedBeforeResponse(let error, let replay)):
            return .refusedBeforeResponse(error, replay: replay)
        case .failure(let error):
            try? await local.closeFuture.get()
            throw error
        case .success(.finished), nil:
            try? await local.closeFuture.get()
            return .finished
        }
    }

    func close() {
        let pair = self.pair
        pair.eventLoop.execute { pair.value.abandon() }
    }

    var isOpen: Bool { !self.ended.isSet }
}
