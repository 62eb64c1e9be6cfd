/// The events of a store watch as an async sequence, for controllers. It starts with a synthetic
/// ADDED for every existing object, as an informer's first list does.
struct ControllerEvents: AsyncSequence, Sendable {
    typealias Element = WatchEvent

    let store: ObjectStore
    let filter: WatchFilter

    func makeAsyncIterator() -> AsyncStream<WatchEvent>.Iterator {
        let (stream, continuation) = AsyncStream<WatchEvent>.makeStream()
        do {
            let registration = try self.store.watch(self.filter, from: nil, external: false) { event in
                if let event { continuation.yield(event) } else { continuation.finish() }
            }
            let store = self.store
            continuation.onTermination = { _ in store.stopWatching(registration.id) }
        } catch {
            continuation.finish()
        }
        return stream.makeAsyncIterator()
    }
}
