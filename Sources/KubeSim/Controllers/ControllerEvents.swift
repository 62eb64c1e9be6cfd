/// The events of a store watch as an async sequence, for controllers. It starts with a synthetic
/// ADDED for every existing object, as an informer's first list does.
struct ControllerEvents: AsyncSequence, Sendable {
    typealias Element = WatchEvent

    let store: ObjectStore
    let filter: WatchFilter

    func makeAsyncIterator() -> AsyncStream<WatchEvent>.Iterator {
        let (stream, continuation) = AsyncStream<WatchEvent>.makeStream()
        do {
            // No onTermination: the store drops the watcher when a yield finds the stream ended
            // (see ObjectStore on why unregistering from there deadlocks).
            _ = try self.store.watch(self.filter, from: nil, external: false) { event in
                guard let event else {
                    continuation.finish()
                    return false
                }
                if case .terminated = continuation.yield(event) { return false }
                return true
            }
        } catch {
            continuation.finish()
        }
        return stream.makeAsyncIterator()
    }
}
