import Synchronization

/// Hands each published value to every subscriber, in order, without ever blocking the
/// publisher: the one subscriber table the engine's streams (status updates, log lines) share.
///
/// Ended subscribers are dropped at the next publish that finds them terminated, never from an
/// `onTermination` handler: cancellation runs that under the consuming task's lock, which a
/// yield under this lock also takes (a lock-order deadlock).
public final class Broadcaster<Element: Sendable>: Sendable {
    /// Yields one value to a subscriber; false once its stream has ended.
    private typealias Deliver = @Sendable (Element) -> Bool

    private struct State {
        var subscribers: [UInt64: (deliver: Deliver, finish: @Sendable () -> Void)] = [:]
        var next: UInt64 = 0
        var finished = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Every value published from now on, transformed (nil: skipped). `initial` runs under the
    /// lock first, so that what it yields and the live values have no gap and no overlap.
    /// - Parameter limit: values kept for a subscriber that reads slowly (the newest).
    public func subscribe<T: Sendable>(
        limit: Int? = nil, initial: (AsyncStream<T>.Continuation) -> Void = { _ in }, _ transform: @escaping @Sendable (Element) -> T?
    ) -> AsyncStream<T> {
        let (stream, continuation) = AsyncStream<T>.makeStream(bufferingPolicy: limit.map { .bufferingNewest($0) } ?? .unbounded)
        let deliver: Deliver = { element in
            guard let value = transform(element) else { return true }
            if case .terminated = continuation.yield(value) { return false }
            return true
        }
        let finish: @Sendable () -> Void = { continuation.finish() }
        self.state.withLock { state in
            initial(continuation)
            guard !state.finished else {
                continuation.finish()
                return
            }
            state.subscribers[state.next] = (deliver, finish)
            state.next += 1
        }
        return stream
    }

    /// Every value published from now on, after what `initial` yields (under the lock).
    public func subscribe(limit: Int? = nil, initial: (AsyncStream<Element>.Continuation) -> Void = { _ in }) -> AsyncStream<Element> {
        self.subscribe(limit: limit, initial: initial) { $0 }
    }

    /// Hands `element` to every subscriber; yielding never blocks nor calls back, so callers may
    /// publish under a lock of their own to keep their order.
    public func publish(_ element: Element) {
        self.state.withLock { state in
            for (id, subscriber) in state.subscribers where !subscriber.deliver(element) {
                state.subscribers.removeValue(forKey: id)
            }
        }
    }

    /// Ends every subscriber's stream; later subscribers get ended streams.
    public func finish() {
        let subscribers = self.state.withLock { state in
            state.finished = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        // Outside the lock: finishing runs the stream's termination handling at once.
        for subscriber in subscribers { subscriber.finish() }
    }
}
