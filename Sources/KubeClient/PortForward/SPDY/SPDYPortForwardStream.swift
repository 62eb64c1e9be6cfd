import NIOCore
import NIOConcurrencyHelpers

/// One forwarded connection on a SPDY session. Its ``SPDYStreamPair`` is opened on the session's
/// event loop, which is also the local connection's (sessions are kept per event loop): when the
/// stream is spliced, or already as the connection was accepted (`openNow`).
final class SPDYPortForwardStream: PortForwardStream {
    private let transport: SPDYPortForwardTransport
    private let key: SPDYSessionPool.Key
    private let session: SPDYSessionPool.Session
    private let port: Int
    private let opened: NIOLockedValueBox<NIOLoopBound<SPDYStreamPair>?>

    /// - Parameter opened: the pair, when it was opened as the connection was accepted
    ///   (``SPDYPortForwardTransport/openNow(namespace:pod:port:on:)``).
    init(transport: SPDYPortForwardTransport, key: SPDYSessionPool.Key, session: SPDYSessionPool.Session, port: Int, opened: NIOLoopBound<SPDYStreamPair>? = nil) {
        self.transport = transport
        self.key = key
        self.session = session
        self.port = port
        self.opened = NIOLockedValueBox(opened)
    }

    private enum Attach: Sendable {
        /// The session takes no new streams.
        case unusable
        /// Spliced, or (handler nil) the pod's side ended before it could be.
        case opened(NIOLoopBound<SPDYStreamPair>, handler: NIOLoopBound<SPDYLocalHandler>?, podSideEnded: EventLoopFuture<Void>)
    }

    func splice(with local: any Channel, replaying: ByteBuffer) async throws(PortForwardError) -> SpliceOutcome {
        let eventLoop = self.session.handler.eventLoop
        precondition(local.eventLoop === eventLoop, "a stream must be opened on its local connection's event loop")
        var session = self.session
        // A stalled or closing session gets one replacement.
        for attempt in 0..<2 {
            let attach: Attach
            do {
                let early = attempt == 0 ? self.opened.withLockedValue { $0 } : nil
                attach = try await eventLoop.submit { [port = self.port, opened = self.opened, handler = session.handler] () throws -> Attach in
                    guard let pair = early?.value ?? handler.value.openPair(port: port) else { return .unusable }
                    let bound = NIOLoopBound(pair, eventLoop: eventLoop)
                    opened.withLockedValue { $0 = bound }
                    let localHandler = SPDYLocalHandler(pair: pair)
                    let attached = try pair.attach(localHandler, to: local, replaying: replaying)
                    return .opened(bound, handler: attached ? NIOLoopBound(localHandler, eventLoop: eventLoop) : nil, podSideEnded: pair.podSideEnded.futureResult)
                }.get()
            } catch {
                self.close()
                local.close(promise: nil)
                throw PortForwardError(kind: .transport, message: "joining the local connection to its stream failed: \(error)")
            }
            guard case .opened(let pair, let handler, let podSideEnded) = attach else {
                if attempt == 0 {
                    do {
                        session = try await self.transport.replace(self.key, session: session, on: eventLoop)
                    } catch {
                        return try Self.refused(error, replaying: replaying, local: local)
                    }
                }
                continue
            }
            try? await podSideEnded.get()
            let outcome = try? await eventLoop.submit { pair.value.conclude(removing: handler?.value, from: local) }.get()
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
        return try Self.refused(
            PortForwardError(kind: .rejected, message: "no SPDY session to pod \(self.key.namespace)/\(self.key.pod) takes new streams"),
            replaying: replaying, local: local
        )
    }

    /// Nothing reached the pod: the connection may go to another.
    private static func refused(_ error: PortForwardError, replaying: ByteBuffer, local: any Channel) throws(PortForwardError) -> SpliceOutcome {
        guard error.backendNeverSawData, local.isActive else {
            local.close(promise: nil)
            throw error
        }
        return .refusedBeforeResponse(error, replay: replaying)
    }

    func close() {
        guard let pair = self.opened.withLockedValue({ $0 }) else { return }
        pair.eventLoop.execute { pair.value.abandon() }
    }

    var isOpen: Bool { self.session.channel.isActive }
}
