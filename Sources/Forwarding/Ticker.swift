import Synchronization

/// Wakes the ``StoreChanges`` subscribed to it when something they read may have changed.
final class Ticker: TickSource {
    private let state = Mutex<(next: UInt64, continuations: [UInt64: AsyncStream<Void>.Continuation])>((0, [:]))

    func tick(_ continuation: AsyncStream<Void>.Continuation) -> UInt64 {
        self.state.withLock { state in
            defer { state.next += 1 }
            state.continuations[state.next] = continuation
            return state.next
        }
    }

    func stopTicking(_ id: UInt64) {
        _ = self.state.withLock { $0.continuations.removeValue(forKey: id) }
    }

    func fire() {
        // Yielding never blocks nor calls back, so it may happen under the lock.
        self.state.withLock { state in
            for continuation in state.continuations.values { continuation.yield() }
        }
    }
}
