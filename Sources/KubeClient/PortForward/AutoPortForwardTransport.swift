import NIOCore
import Signals
import Synchronization

/// Tries transports in order until the API server accepts one, as kubectl's fallback dialer
/// does: the next is tried only after an *upgrade failure* (a refused upgrade, or a 101 that
/// did not agree on the protocol), never after a network error or an answer about the pod
/// itself (not found, not running, credentials rejected). The first that works is kept for
/// every later stream, and reported once.
public final class AutoPortForwardTransport: PortForwardTransport {
    private let candidates: [any PortForwardTransport]
    private let chosen = Mutex<Int?>(nil)
    private let negotiated: @Sendable (String) -> Void
    /// The client whose network notices reach the candidates, and the registration.
    private let observed: (client: KubeClient, id: UInt64)?

    /// - Parameters:
    ///   - client: whose ``NetworkNotice``s this transport passes on to `network`.
    public init(
        candidates: [any PortForwardTransport], client: KubeClient? = nil, negotiated: @escaping @Sendable (String) -> Void,
        network: @escaping @Sendable (NetworkNotice) -> Void = { _ in }
    ) {
        precondition(!candidates.isEmpty)
        self.candidates = candidates
        self.negotiated = negotiated
        // The client rechecks its sessions itself (``KubeClient/announce(_:)``), once for all
        // the transports sharing them.
        self.observed = client.map { client in (client, client.observeNetwork(network)) }
    }

    /// The negotiated transport's name, `auto` until one was accepted.
    public var name: String { self.chosen.withLock { $0 }.map { self.candidates[$0].name } ?? "auto" }

    public var multiplexes: Bool { (self.chosen.withLock { $0 }.map { self.candidates[$0] } ?? self.candidates[0]).multiplexes }

    public func open(namespace: String, pod: String, port: Int, on eventLoop: any EventLoop) async throws(PortForwardError) -> any PortForwardStream {
        try await self.attempt { transport throws(PortForwardError) in
            try await transport.open(namespace: namespace, pod: pod, port: port, on: eventLoop)
        }
    }

    /// Only once a transport was negotiated: before that, a stream needs the negotiation.
    public func openNow(namespace: String, pod: String, port: Int, joining local: any Channel) -> EventLoopFuture<SpliceOutcome>? {
        guard let index = self.chosen.withLock({ $0 }) else { return nil }
        return self.candidates[index].openNow(namespace: namespace, pod: pod, port: port, joining: local)
    }

    public func prepare(namespace: String, pod: String, on eventLoop: any EventLoop) async throws(PortForwardError) {
        try await self.attempt { transport throws(PortForwardError) in
            try await transport.prepare(namespace: namespace, pod: pod, on: eventLoop)
        }
    }

    /// The first candidate's (the SPDY candidates share one).
    public var sessionsClosed: Ticker? { self.candidates.lazy.compactMap(\.sessionsClosed).first }

    public func retainSessions(namespace: String, pods: Set<String>) {
        for candidate in self.candidates { candidate.retainSessions(namespace: namespace, pods: pods) }
    }

    public func shutdown() {
        if let observed = self.observed { observed.client.stopObservingNetwork(observed.id) }
        for candidate in self.candidates { candidate.shutdown() }
    }

    private func attempt<T>(_ body: (any PortForwardTransport) async throws(PortForwardError) -> T) async throws(PortForwardError) -> T {
        if let index = self.chosen.withLock({ $0 }) { return try await body(self.candidates[index]) }
        var index = 0
        while true {
            do {
                let value = try await body(self.candidates[index])
                self.settle(on: index)
                return value
            } catch where index + 1 < self.candidates.count && Self.isUpgradeFailure(error) {
                index += 1
            }
        }
    }

    private func settle(on index: Int) {
        let first = self.chosen.withLock { chosen in
            defer { chosen = chosen ?? index }
            return chosen == nil
        }
        if first { self.negotiated(self.candidates[index].name) }
    }

    /// What makes kubectl fall back (httpstream.IsUpgradeFailure): any refused upgrade or a 101
    /// without the protocol asked for, except refusals that are about the pod or the user and
    /// would be the same whatever the protocol.
    static func isUpgradeFailure(_ error: PortForwardError) -> Bool {
        switch error.kind {
        case .protocolViolation: return error.httpStatus == nil
        case .forbidden, .rejected: return error.httpStatus != nil
        default: return false
        }
    }
}
