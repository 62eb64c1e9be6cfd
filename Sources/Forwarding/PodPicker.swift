import KubeClient
import Signals

/// A pod and the container port a new connection should go to.
public struct PodChoice: Sendable, Hashable {
    public let pod: String
    public let port: Int
}

/// Chooses pods for new connections from an informer's store: only ready, non-terminating
/// pods, spread in turn over all of them. Reads never touch the API server.
protocol PodPicker: Sendable {
    /// Ready pods for a remote port, in the order new connections should try them.
    func candidates(remotePort: RemotePort) -> [PodChoice]
    /// The informers whose changes can change the candidates.
    var informers: [any TickSource] { get }
    /// Why there is no candidate, for the user ("svc/web has no ready endpoints").
    func emptyReason(remotePort: RemotePort) -> ForwardError
    /// Whether the target itself asks for one pod per client (`sessionAffinity: ClientIP`).
    var sticky: Bool { get }
    /// Why the informers cannot reach the API server now, nil while their watches are up.
    var apiError: KubeError? { get }
    /// A candidate pod's IP address (what a relay dials for UDP to pods); nil when unknown.
    func address(of pod: String) -> String?
}

extension PodPicker {
    var sticky: Bool { false }
    func address(of pod: String) -> String? { nil }
}

/// A subscription to the changes of several informers, ended when the value goes away.
final class StoreChanges: Sendable {
    let ticks: AsyncStream<Void>
    private let end: @Sendable () -> Void

    init(_ informers: [any TickSource]) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let registrations = informers.map { ($0, $0.tick(continuation)) }
        self.ticks = stream
        self.end = {
            for (informer, id) in registrations { informer.stopTicking(id) }
            continuation.finish()
        }
    }

    deinit {
        self.end()
    }

    /// Runs `body` now and again after every change of `sources`, until it returns a value (nil
    /// when the task is cancelled first). Each run is subscribed before it reads, so a change
    /// that lands while it runs still wakes the next one.
    static func rerun<T>(on sources: [any TickSource], _ body: () async -> T?) async -> T? {
        while !Task.isCancelled {
            let changes = StoreChanges(sources)
            if let value = await body() { return value }
            for await _ in changes.ticks { break }
        }
        return nil
    }
}

protocol TickSource: Sendable {
    func tick(_ continuation: AsyncStream<Void>.Continuation) -> UInt64
    func stopTicking(_ id: UInt64)
    /// Changes with every tick.
    var revision: UInt64 { get }
}

/// What a forward needs to know of an informer before its first list: whether it came, and
/// what stops it.
protocol InformerHealth: TickSource {
    var hasSynced: Bool { get }
    var lastError: KubeError? { get }
}

extension Informer: InformerHealth {}
extension Ticker: TickSource {}
