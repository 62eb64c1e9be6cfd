import NIOCore

/// One `v4.channel.k8s.io` WebSocket carrying one local connection.
final class WebSocketPortForwardStream: PortForwardStream {
    private let channel: any Channel
    private let handler: NIOLoopBound<WebSocketPortForwardClientHandler>

    init(channel: any Channel, handler: NIOLoopBound<WebSocketPortForwardClientHandler>) {
        self.channel = channel
        self.handler = handler
    }

    func splice(with local: any Channel, replaying: ByteBuffer) async throws(PortForwardError) -> SpliceOutcome {
        precondition(local.eventLoop === self.channel.eventLoop, "a stream must be opened on its local connection's event loop")
        let remote = self.channel
        let handler = self.handler
        let joined: Result<(NIOLoopBound<GlueHandler>, NIOLoopBound<ReplayGuard>)?, any Error>
        do {
            joined = .success(try await remote.eventLoop.submit {
                guard local.isActive, remote.isActive else { return nil }
                let (localGlue, remoteGlue) = GlueHandler.pair()
                let replayGuard = ReplayGuard(local: local, failure: { handler.value.failure })
                try local.pipeline.syncOperations.addHandler(localGlue)
                try remote.pipeline.syncOperations.addHandler(replayGuard)
                try remote.pipeline.syncOperations.addHandler(remoteGlue)
                handler.value.startDelivering(context: try remote.pipeline.syncOperations.context(handler: handler.value))
                if replaying.readableBytes > 0 { remote.writeAndFlush(replaying, promise: nil) }
                try local.syncOptions?.setOption(.autoRead, value: true)
                return (NIOLoopBound(localGlue, eventLoop: local.eventLoop), NIOLoopBound(replayGuard, eventLoop: local.eventLoop))
            }.get())
        } catch {
            joined = .failure(error)
        }
        guard case .success(.some(let (localGlue, replayGuard))) = joined else {
            remote.close(promise: nil)
            if case .failure(let error) = joined {
                local.close(promise: nil)
                throw PortForwardError(kind: .transport, message: "joining the local connection to its stream failed: \(error)")
            }
            // The runtime may refuse the dial before the splice: nothing was read for this stream.
            try? await remote.closeFuture.get()
            if local.isActive, let failure = try? await remote.eventLoop.submit({ handler.value.failure }).get(), failure.backendNeverSawData {
                return .refusedBeforeResponse(failure, replay: replaying)
            }
            local.close(promise: nil)
            return .finished
        }
        try? await remote.closeFuture.get()
        let retry = try? await remote.eventLoop.submit { () -> (error: PortForwardError, replay: ByteBuffer)? in
            guard let retry = replayGuard.value.retry else { return nil }
            _ = local.pipeline.syncOperations.removeHandler(localGlue.value)
            return retry
        }.get()
        if let retry {
            return .refusedBeforeResponse(retry.error, replay: retry.replay)
        }
        try? await local.closeFuture.get()
        let failure = try? await remote.eventLoop.submit { handler.value.failure }.get()
        if let failure { throw failure }
        return .finished
    }

    func close() {
        self.channel.close(promise: nil)
    }
}
