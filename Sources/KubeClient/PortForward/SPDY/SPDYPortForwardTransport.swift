import NIOCore
import NIOHTTP1
import NIOWebSocket
import Signals
import SPDY

/// Port-forward over SPDY/3.1, plain (`POST` + `Upgrade: SPDY/3.1`, what kubectl ≤ 1.30 speaks)
/// or tunnelled in a WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl ≥ 1.31's default): one
/// session per pod and event loop carries every local connection as a pair of streams, so a new
/// connection costs two frames instead of a TLS handshake and an upgrade. The sessions are the
/// client's (``SPDYSessionPool``): every transport made for the same client, so every forward to
/// the same cluster as the same user, shares them.
public struct SPDYPortForwardTransport: PortForwardTransport {
    public enum Mode: Sendable {
        /// SPDY inside a WebSocket (wire doc section 3).
        case tunnel
        /// Plain SPDY after an HTTP upgrade (section 2).
        case spdy
    }

    public let client: KubeClient
    public let mode: Mode
    private let pool: SPDYSessionPool
    /// This transport in the pool, until ``shutdown()``.
    private let user: SPDYSessionPool.User

    public var name: String { self.mode == .tunnel ? "tunnel" : "spdy" }
    public var multiplexes: Bool { true }

    /// Call ``shutdown()`` when done: until then the transport's pods keep their sessions.
    /// - Parameter heldBack: told, with the pod's name, when a local connection (this transport's
    ///   or another's on the same session) stops reading what the pod sends for long enough to stop
    ///   that pod's session (SPDY has no per-stream flow control): connections already on the
    ///   session wait with it, new ones get another session.
    public init(client: KubeClient, mode: Mode, heldBack: @escaping @Sendable (_ pod: String) -> Void = { _ in }) {
        self.client = client
        self.mode = mode
        self.pool = client.portForwardSessions[mode]
        self.user = self.pool.join(heldBack: heldBack)
    }

    public var sessionsClosed: Ticker? { self.pool.closed }

    public func open(namespace: String, pod: String, port: Int, on eventLoop: any EventLoop) async throws(PortForwardError) -> any PortForwardStream {
        guard (1...65535).contains(port) else {
            throw PortForwardError(kind: .configuration, message: "port \(port) is not a TCP port: use 1 to 65535")
        }
        let key = SPDYSessionPool.Key(namespace: namespace, pod: pod, loop: ObjectIdentifier(eventLoop))
        let session = try await self.session(key, on: eventLoop)
        // The streams open when the stream is spliced, in the same turn of the event loop as the
        // splice: a new connection then costs no more hops than the one to its event loop.
        return SPDYPortForwardStream(transport: self, key: key, session: session, port: port)
    }

    public func openNow(namespace: String, pod: String, port: Int, joining local: any Channel) -> EventLoopFuture<SpliceOutcome>? {
        guard (1...65535).contains(port) else { return nil }
        let key = SPDYSessionPool.Key(namespace: namespace, pod: pod, loop: ObjectIdentifier(local.eventLoop))
        guard let session = self.pool.readySession(for: key), let pair = session.handler.value.openPair(port: port) else { return nil }
        guard let joined = try? SPDYPortForwardStream.join(pair, to: local, replaying: ByteBuffer()) else {
            pair.abandon()
            return nil
        }
        return joined.ended(local: local)
    }

    /// The pool's session for `key`, dialed if there is none.
    func session(_ key: SPDYSessionPool.Key, on eventLoop: any EventLoop) async throws(PortForwardError) -> SPDYSessionPool.Session {
        try await self.pool.session(for: key, user: self.user, on: eventLoop) { () throws(PortForwardError) in
            try await self.dial(namespace: key.namespace, pod: key.pod, on: eventLoop)
        }
    }

    /// Another session for `key`, when `session` could take no new streams (stalled, told to
    /// go away, closed).
    func replace(_ key: SPDYSessionPool.Key, session: SPDYSessionPool.Session, on eventLoop: any EventLoop) async throws(PortForwardError) -> SPDYSessionPool.Session {
        self.pool.replace(key, session: session)
        return try await self.session(key, on: eventLoop)
    }

    public func prepare(namespace: String, pod: String, on eventLoop: any EventLoop) async throws(PortForwardError) {
        _ = try await self.session(SPDYSessionPool.Key(namespace: namespace, pod: pod, loop: ObjectIdentifier(eventLoop)), on: eventLoop)
    }

    public func retainSessions(namespace: String, pods: Set<String>) {
        self.pool.retain(self.user, namespace: namespace, pods: pods)
    }

    public func shutdown() {
        self.pool.leave(self.user)
    }

    /// Dials one session to `pod`.
    private func dial(namespace: String, pod: String, on eventLoop: any EventLoop) async throws(PortForwardError) -> SPDYSessionPool.Session {
        let dialer = PortForwardDialer(client: self.client)
        let path = "/api/v1/namespaces/\(namespace)/pods/\(pod)/portforward"
        let describe: @Sendable (String, Int) -> PortForwardError = { text, port in
            dialer.errorStreamError(text, pod: pod, namespace: namespace, port: port)
        }
        let heldBack: @Sendable () -> Void = { [pool = self.pool] in pool.heldBack(SPDYSessionPool.PodRef(namespace: namespace, pod: pod)) }
        let settle: @Sendable (any Channel, NIOLoopBound<SPDYClientSessionHandler>) async throws(PortForwardError) -> SPDYSessionPool.Session = {
            channel, handler in SPDYSessionPool.Session(channel: channel, handler: handler)
        }
        let outcome: PortForwardDialer.Outcome<SPDYSessionPool.Session>
        let expected: String
        switch self.mode {
        case .spdy:
            expected = "stream protocol \(PortForwardSPDY.streamProtocol)"
            outcome = try await dialer.dial(
                method: .POST, path: path, headers: [], on: eventLoop,
                upgrader: {
                    SPDYClientUpgrader<PortForwardDialer.Upgrade<NIOLoopBound<SPDYClientSessionHandler>>>(
                        wrongProtocol: { .wrongProtocol($0) },
                        upgradePipelineHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                .upgraded(try Self.addSession(to: channel, pingPeriod: .seconds(5), describe: describe, heldBack: heldBack))
                            }
                        }
                    )
                },
                settle: settle
            )
        case .tunnel:
            expected = "subprotocol \(PortForwardSPDY.tunnelSubprotocol)"
            outcome = try await dialer.dial(
                method: .GET, path: path, headers: [("Sec-WebSocket-Protocol", PortForwardSPDY.tunnelSubprotocol)], on: eventLoop,
                upgrader: {
                    WebSocketClientUpgrader<PortForwardDialer.Upgrade<NIOLoopBound<SPDYClientSessionHandler>>>(maxFrameSize: 32 << 20, byteStream: true) { channel, response in
                        channel.eventLoop.makeCompletedFuture {
                            let chosen = response.headers.first(name: "Sec-WebSocket-Protocol")
                            guard chosen == PortForwardSPDY.tunnelSubprotocol else { return .wrongProtocol(chosen) }
                            try channel.pipeline.syncOperations.addSPDYCodec(tunnel: .client)
                            return .upgraded(try Self.addSession(to: channel, pingPeriod: .seconds(10), describe: describe, heldBack: heldBack))
                        }
                    }
                },
                settle: settle
            )
        }
        switch outcome {
        case .upgraded(let session):
            return session
        case .refused(let status, let body):
            throw dialer.refusal(status: status, body: body, path: path, namespace: namespace, pod: pod, protocolName: expected)
        case .wrongProtocol(let chosen):
            throw dialer.wrongProtocol(chosen, expected: expected)
        }
    }

    private static func addSession(
        to channel: any Channel, pingPeriod: TimeAmount, describe: @escaping @Sendable (String, Int) -> PortForwardError,
        heldBack: @escaping @Sendable () -> Void
    ) throws -> NIOLoopBound<SPDYClientSessionHandler> {
        let handler = SPDYClientSessionHandler(pingPeriod: pingPeriod, describe: describe, heldBack: heldBack)
        try channel.pipeline.syncOperations.addHandler(handler)
        return NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }
}
