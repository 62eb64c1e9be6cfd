import NIOCore
import NIOConcurrencyHelpers

/// One forwarded connection on a SPDY session. Its ``SPDYStreamPair`` is opened on the session's
/// event loop, which is also the local connection's (sessions are kept per event loop), and
/// joined to the connection there when the stream is spliced. (A connection accepted while its
/// pod's session is up needs no stream object:
/// ``SPDYPortForwardTransport/openNow(namespace:pod:port:joining:)`` joins a pair to it at once.)
final class SPDYPortForwardStream: PortForwardStream {
    private let transport: SPDYPortForwardTransport
    private let key: SPDYSessionPool.Key
    private let session: SPDYSessionPool.Session
    private let port: Int
    /// Set once the pair is open, for ``close()``.
    private let opened = NIOLockedValueBox<NIOLoopBound<SPDYStreamPair>?>(nil)

    init(transport: SPDYPortForwardTransport, key: SPDYSessionPool.Key, session: SPDYSessionPool.Session, port: Int) {
        self.transport = transport
        self.key = key
        self.session = session
        self.port = port
    }

    /// A pair joined to its local connection: the local handler (nil when the pod's side had
    /// already ended), and the end of the pod's side.
    struct Joined: Sendable {
        let pair: NIOLoopBound<SPDYStreamPair>
        let handler: NIOLoopBound<SPDYLocalHandler>?
        let podSideEnded: EventLoopFuture<Void>

        /// How the splice ends, once the pod's side has: on `local`'s event loop.
        func ended(local: any Channel) -> EventLoopFuture<SpliceOutcome> {
            let ended = local.eventLoop.makePromise(of: SpliceOutcome.self)
            self.podSideEnded.assumeIsolated().whenComplete { _ in
                ended.completeWith(self.pair.value.conclude(removing: self.handler?.value, from: local).mapError { $0 })
            }
            return ended.futureResult
        }
    }

    /// Joins `pair` to `local`: from here on bytes flow both ways. On the pair's event loop.
    static func join(_ pair: SPDYStreamPair, to local: any Channel, replaying: ByteBuffer) throws -> Joined {
        let eventLoop = local.eventLoop
        let handler = SPDYLocalHandler(pair: pair)
        let attached = try pair.attach(handler, to: local, replaying: replaying)
        return Joined(
            pair: NIOLoopBound(pair, eventLoop: eventLoop), handler: attached ? NIOLoopBound(handler, eventLoop: eventLoop) : nil,
            podSideEnded: pair.podSideEnded.futureResult
        )
    }

    private enum Attach: Sendable {
        /// The session takes no new streams, and why.
        case unusable(String)
        case joined(Joined)
    }

    /// Sessions tried for one stream: the first, and replacements while each could take none
    /// (a retirement can catch a replacement still being dialed: a network change, the pod set
    /// changing while a forward starts).
    static let attempts = 3

    func splice(with local: any Channel, replaying: ByteBuffer) async throws(PortForwardError) -> SpliceOutcome {
        let eventLoop = self.session.handler.eventLoop
        precondition(local.eventLoop === eventLoop, "a stream must be opened on its local connection's event loop")
        var session = self.session
        var unusable: [String] = []
        for attempt in 0..<Self.attempts {
            let attach: Attach
            do {
                attach = try await eventLoop.submit { [port = self.port, opened = self.opened, handler = session.handler] () throws -> Attach in
                    guard let pair = handler.value.openPair(port: port) else { return .unusable(handler.value.unusable ?? "it took no new stream") }
                    opened.withLockedValue { $0 = NIOLoopBound(pair, eventLoop: eventLoop) }
                    return .joined(try Self.join(pair, to: local, replaying: replaying))
                }.get()
            } catch {
                self.close()
                local.close(promise: nil)
                throw PortForwardError(kind: .transport, message: "joining the local connection to its stream failed: \(error)")
            }
            let joined: Joined
            switch attach {
            case .joined(let attached):
                joined = attached
            case .unusable(let why):
                unusable.append(why)
                guard attempt + 1 < Self.attempts else { continue }
                do {
                    session = try await self.transport.replace(self.key, session: session, on: eventLoop)
                } catch {
                    return try Self.refused(error, replaying: replaying, local: local)
                }
                continue
            }
            let outcome: SpliceOutcome
            do {
                outcome = try await eventLoop.flatSubmit { joined.ended(local: local) }.get()
            } catch {
                try? await local.closeFuture.get()
                throw PortForwardError.from(error)
            }
            if case .finished = outcome { try? await local.closeFuture.get() }
            return outcome
        }
        return try Self.refused(
            PortForwardError(
                kind: .rejected,
                message: "no SPDY session to pod \(self.key.namespace)/\(self.key.pod) takes new streams (\(unusable.joined(separator: "; then ")))"
            ),
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
