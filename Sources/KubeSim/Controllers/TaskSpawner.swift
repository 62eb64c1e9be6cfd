/// Hands work to KubeSim's own task group, so that every timer and process a controller starts has
/// an owner and ends when the simulator stops.
struct TaskSpawner: Sendable {
    private let continuation: AsyncStream<@Sendable () async -> Void>.Continuation

    init(_ continuation: AsyncStream<@Sendable () async -> Void>.Continuation) {
        self.continuation = continuation
    }

    func spawn(_ work: @escaping @Sendable () async -> Void) {
        self.continuation.yield(work)
    }

    /// Runs `work` after `delay` unless the simulator stops first.
    func after(_ delay: Duration, _ work: @escaping @Sendable () async -> Void) {
        self.spawn {
            if delay > .zero {
                do { try await Task.sleep(for: delay) } catch { return }
            }
            await work()
        }
    }
}
