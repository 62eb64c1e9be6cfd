import NIOCore
import Synchronization
import Signals

/// The SPDY sessions of one transport: one per (pod, event loop) in use, so that a local
/// connection and its streams share a thread and bytes never hop. Concurrent opens to a pod
/// wait for the same dial. A session leaves the pool when it closes, when it is stalled by a
/// slow local reader (it keeps serving its own pairs; new connections get a new session), and
/// when the transport shuts down; a retired session closes once its last pair ends.
final class SPDYSessionPool: Sendable {
    struct Key: Hashable, Sendable {
        let namespace: String
        let pod: String
        let loop: ObjectIdentifier
    }

    /// A connected session.
    struct Session: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<SPDYClientSessionHandler>
    }

    private struct Entry {
        let future: EventLoopFuture<Session>
        /// The session once dialed (read without waiting on the future).
        var session: Session?
    }

    private struct State {
        var sessions: [Key: Entry] = [:]
        var shutDown = false
    }

    private let state = Mutex(State())
    /// Fired whenever a pooled session closes.
    let closed: Ticker

    init(closed: Ticker) {
        self.closed = closed
    }

    /// The pool's session for `key`, dialed with `dial` if there is none.
    func session(
        for key: Key, on eventLoop: any EventLoop, dial: @Sendable () async throws(PortForwardError) -> Session
    ) async throws(PortForwardError) -> Session {
        enum Found {
            case ready(Session)
            case dialing(EventLoopFuture<Session>)
            case dialHere(EventLoopPromise<Session>)
        }
        let found = self.state.withLock { state -> Found in
            if let entry = state.sessions[key] { return entry.session.map(Found.ready) ?? .dialing(entry.future) }
            let promise = eventLoop.makePromise(of: Session.self)
            state.sessions[key] = Entry(future: promise.futureResult)
            return .dialHere(promise)
        }
        let promise: EventLoopPromise<Session>
        switch found {
        case .ready(let session):
            return session
        case .dialing(let existing):
            do {
                return try await existing.get()
            } catch let error as PortForwardError {
                throw error
            } catch {
                throw PortForwardError(kind: .transport, message: "\(error)")
            }
        case .dialHere(let dialing):
            promise = dialing
        }
        do {
            let session = try await dial()
            let keep = self.state.withLock { state in
                guard !state.shutDown else {
                    state.sessions[key] = nil
                    return false
                }
                state.sessions[key]?.session = session
                return true
            }
            if !keep { session.handler.eventLoop.execute { session.handler.value.retire() } }
            session.channel.closeFuture.whenComplete { _ in
                self.remove(key, ifFrom: session.channel)
                self.closed.fire()
            }
            promise.succeed(session)
            return session
        } catch {
            self.state.withLock { state in
                if state.sessions[key]?.future === promise.futureResult { state.sessions[key] = nil }
            }
            promise.fail(error)
            throw error
        }
    }

    /// The pool's session for `key` when one is connected, without waiting for a dial.
    func readySession(for key: Key) -> Session? {
        self.state.withLock { $0.sessions[key]?.session }
    }

    /// Takes `session` out of the pool (a new one will be dialed for its key), retiring it.
    func replace(_ key: Key, session: Session) {
        self.remove(key, ifFrom: session.channel)
        session.handler.eventLoop.execute { session.handler.value.retire() }
    }

    /// No new sessions; every pooled one is retired (it closes when its pairs end).
    func shutdown() {
        let futures = self.state.withLock { state in
            state.shutDown = true
            defer { state.sessions = [:] }
            return state.sessions.values.map(\.future)
        }
        for future in futures {
            future.whenSuccess { session in session.handler.eventLoop.execute { session.handler.value.retire() } }
        }
    }

    /// Retires every pooled session after a network change (new streams dial new sessions);
    /// one that still carries streams closes unless it answers a ping within `deadline`.
    func recheck(deadline: TimeAmount = .milliseconds(1500)) {
        let retired = self.state.withLock { state -> [EventLoopFuture<Session>] in
            defer { state.sessions = [:] }
            return state.sessions.values.map(\.future)
        }
        for future in retired {
            future.whenSuccess { session in
                session.handler.eventLoop.execute {
                    session.handler.value.retire()
                    session.handler.value.verify(within: deadline)
                }
            }
        }
    }

    /// Retires the sessions to pods of `namespace` that are not in `pods` (gone, or no longer
    /// taking new connections); their open connections carry on.
    func retain(namespace: String, pods: Set<String>) {
        let retired = self.state.withLock { state -> [EventLoopFuture<Session>] in
            let keys = state.sessions.keys.filter { $0.namespace == namespace && !pods.contains($0.pod) }
            return keys.compactMap { state.sessions.removeValue(forKey: $0)?.future }
        }
        for future in retired {
            future.whenSuccess { session in session.handler.eventLoop.execute { session.handler.value.retire() } }
        }
    }

    private func remove(_ key: Key, ifFrom channel: any Channel) {
        self.state.withLock { state in
            // Only the entry of this session: a replacement may already stand there.
            if let current = state.sessions[key]?.session, current.channel === channel { state.sessions[key] = nil }
        }
    }
}
