import NIOCore
import Synchronization
import Signals

/// The SPDY sessions of one client and mode, shared by every transport made for that client (so
/// every forward to the same cluster as the same user): one per (pod, event loop) in use, so that
/// a local connection and its streams share a thread and bytes never hop, however many forwards
/// reach the pod. A session carries streams to any port of its pod. Concurrent opens to a pod
/// wait for the same dial.
///
/// Each transport is a *user* of the pool and says which pods it wants sessions to (those it
/// opened streams to, narrowed by ``retain(_:namespace:pods:)``). A session leaves the pool when
/// no user wants its pod any more, when it closes, when it is stalled by a slow local reader (it
/// keeps serving its own pairs; new connections get a new session), and after a network change;
/// a retired session closes once its last pair ends.
final class SPDYSessionPool: Sendable {
    struct Key: Hashable, Sendable {
        let namespace: String
        let pod: String
        let loop: ObjectIdentifier

        var ref: PodRef { PodRef(namespace: self.namespace, pod: self.pod) }
    }

    struct PodRef: Hashable, Sendable {
        let namespace: String
        let pod: String
    }

    /// One transport using the pool.
    struct User: Hashable, Sendable {
        fileprivate let id: UInt64
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

    private struct Member {
        var wanted: Set<PodRef> = []
        let heldBack: @Sendable (_ pod: String) -> Void
    }

    private struct State {
        var sessions: [Key: Entry] = [:]
        var users: [UInt64: Member] = [:]
        var nextUser: UInt64 = 0

        func isWanted(_ pod: PodRef) -> Bool {
            self.users.values.contains { $0.wanted.contains(pod) }
        }

        /// Takes out the sessions of pods no user wants, for retiring.
        mutating func removeUnwanted() -> [EventLoopFuture<Session>] {
            let unwanted = self.sessions.keys.filter { !self.isWanted($0.ref) }
            return unwanted.compactMap { self.sessions.removeValue(forKey: $0)?.future }
        }
    }

    private let state = Mutex(State())
    /// Fired whenever a pooled session closes.
    let closed: Ticker

    init(closed: Ticker) {
        self.closed = closed
    }

    /// A new user; `heldBack` hears of sessions to the pods it wants that a slow local reader
    /// holds back (whichever user's connection it was: they all wait with it).
    func join(heldBack: @escaping @Sendable (_ pod: String) -> Void) -> User {
        self.state.withLock { state in
            defer { state.nextUser += 1 }
            state.users[state.nextUser] = Member(heldBack: heldBack)
            return User(id: state.nextUser)
        }
    }

    /// The user wants no session any more: those no other user wants are retired (they close
    /// when their pairs end). A session it asks for after this is handed out but not kept.
    func leave(_ user: User) {
        let retired = self.state.withLock { state in
            state.users[user.id] = nil
            return state.removeUnwanted()
        }
        Self.retire(retired)
    }

    /// The pool's session for `key`, dialed with `dial` if there is none; `user` wants its pod
    /// from now on.
    func session(
        for key: Key, user: User, on eventLoop: any EventLoop, dial: @Sendable () async throws(PortForwardError) -> Session
    ) async throws(PortForwardError) -> Session {
        enum Found {
            case ready(Session)
            case dialing(EventLoopFuture<Session>)
            case dialHere(EventLoopPromise<Session>)
        }
        let found = self.state.withLock { state -> Found in
            state.users[user.id]?.wanted.insert(key.ref)
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
                // Nobody wants the pod any more (its users left, or it left their pods while
                // dialing): the session serves who waited for it, then closes.
                guard state.sessions[key]?.future === promise.futureResult, state.isWanted(key.ref) else {
                    if state.sessions[key]?.future === promise.futureResult { state.sessions[key] = nil }
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

    /// `user` wants sessions to no pod of `namespace` but `pods` (gone, or no longer taking new
    /// connections): those no other user wants are retired; their open connections carry on.
    func retain(_ user: User, namespace: String, pods: Set<String>) {
        let retired = self.state.withLock { state -> [EventLoopFuture<Session>] in
            guard var member = state.users[user.id] else { return [] }
            let dropped = member.wanted.filter { $0.namespace == namespace && !pods.contains($0.pod) }
            member.wanted.subtract(dropped)
            member.wanted.formUnion(pods.map { PodRef(namespace: namespace, pod: $0) })
            state.users[user.id] = member
            // Most calls change nothing (every forward of a Service is told of each change of
            // its pods): the sessions are looked at only when this user let go of a pod.
            return dropped.isEmpty ? [] : state.removeUnwanted()
        }
        Self.retire(retired)
    }

    /// Tells every user that wants `pod` that a local reader holds its session back.
    func heldBack(_ pod: PodRef) {
        let told = self.state.withLock { state in state.users.values.filter { $0.wanted.contains(pod) }.map(\.heldBack) }
        for heldBack in told { heldBack(pod.pod) }
    }

    /// How many sessions the pool holds (connected or dialing), for tests and benchmarks.
    var count: Int { self.state.withLock { $0.sessions.count } }

    private static func retire(_ futures: [EventLoopFuture<Session>]) {
        for future in futures {
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

/// A client's SPDY session pools, one per mode (plain and tunnelled), sharing the signal that a
/// session closed (the transports that fall back to one another are kept by one loop).
final class SPDYSessionPools: Sendable {
    let closed = Ticker()
    let tunnel: SPDYSessionPool
    let spdy: SPDYSessionPool

    init() {
        self.tunnel = SPDYSessionPool(closed: self.closed)
        self.spdy = SPDYSessionPool(closed: self.closed)
    }

    subscript(mode: SPDYPortForwardTransport.Mode) -> SPDYSessionPool {
        mode == .tunnel ? self.tunnel : self.spdy
    }

    /// After a network change or a wake: see ``SPDYSessionPool/recheck(deadline:)``.
    func recheck() {
        self.tunnel.recheck()
        self.spdy.recheck()
    }
}
