import Synchronization

/// Wakes whoever subscribed when something they read may have changed (the engine's store
/// subscriptions, as an ``Informer`` does): a forward's route, a transport's sessions.
public final class Ticker: Sendable {
    private let state = Mutex<(next: UInt64, continuations: [UInt64: AsyncStream<Void>.Continuation], fired: UInt64)>((0, [:], 0))

    public init() {}

    public func tick(_ continuation: AsyncStream<Void>.Continuation) -> UInt64 {
        self.state.withLock { state in
            defer { state.next += 1 }
            state.continuations[state.next] = continuation
            return state.next
        }
    }

    public func stopTicking(_ id: UInt64) {
        _ = self.state.withLock { $0.continuations.removeValue(forKey: id) }
    }

    /// How many times it has fired.
    public var revision: UInt64 { self.state.withLock { $0.fired } }

    public func fire() {
        // Yielding never blocks nor calls back, so it may happen under the lock.
        self.state.withLock { state in
            state.fired += 1
            for continuation in state.continuations.values { continuation.yield() }
        }
    }
}
