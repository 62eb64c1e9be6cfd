import Foundation
import Synchronization

/// KubeSim's etcd: every object, one cluster-wide resourceVersion counter, a bounded history of
/// changes and the registered watchers.
///
/// All operations are synchronous under one lock. Watchers receive events through a sink closure
/// called while the lock is held, so every watcher sees changes in resourceVersion order; sinks
/// must only hand the event off (to an event loop or a stream) and never call back into the store.
/// A sink says when its consumer is gone (it returns false) instead of unregistering from a
/// stream's `onTermination`: task cancellation runs that handler under the task's own lock,
/// which a yield under the store's lock also needs, and the two would deadlock.
final class ObjectStore: Sendable {
    /// Receives each event (nil means the server ends the watch); returns false once nobody
    /// consumes them any more, and the watcher is dropped.
    typealias Sink = @Sendable (WatchEvent?) -> Bool

    private struct Watcher {
        let filter: WatchFilter
        let sink: Sink
        /// Client watches end when the API "restarts"; the controllers' own watches do not.
        let external: Bool
    }

    private struct State {
        var resourceVersion = 1
        var objects: [ObjectKey: JSON] = [:]
        var history: [StoredChange] = []
        var historyStart = 0
        /// Resuming a watch from this resourceVersion or an earlier one gets 410 Expired.
        var compactedThrough = 0
        var watchers: [UInt64: Watcher] = [:]
        var nextWatcherID: UInt64 = 0
        var watchCounts: [ResourceType: Int] = [:]
        var observers: [UInt64: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())
    private let historyLimit: Int

    init(historyLimit: Int) {
        self.historyLimit = max(historyLimit, 1)
    }

    var currentResourceVersion: Int { self.state.withLock { $0.resourceVersion } }

    func get(_ key: ObjectKey) -> JSON? {
        self.state.withLock { $0.objects[key] }
    }

    func list(_ filter: WatchFilter) -> (items: [JSON], resourceVersion: Int) {
        self.state.withLock { state in
            let items = state.objects
                .filter { filter.matches($0.key, $0.value) }
                .sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }
                .map(\.value)
            return (items, state.resourceVersion)
        }
    }

    /// Stores a new object, stamping its resourceVersion.
    func create(_ key: ObjectKey, _ object: JSON) throws(APIError) -> JSON {
        try self.state.withLock { state throws(APIError) in
            guard state.objects[key] == nil else { throw APIError.alreadyExists(key.resource, key.name) }
            return self.commit(&state, key, previous: nil, current: object)!
        }
    }

    /// Reads, changes and writes an object atomically. `expectedResourceVersion`, when given, must
    /// match the stored one (optimistic concurrency, 409 Conflict otherwise). A change that leaves
    /// the object as it was writes nothing and emits no event, as the apiserver does.
    func update(
        _ key: ObjectKey,
        expectedResourceVersion: String? = nil,
        _ change: (inout JSON) throws(APIError) -> Void
    ) throws(APIError) -> JSON {
        try self.state.withLock { state throws(APIError) in
            guard let previous = state.objects[key] else { throw APIError.notFound(key.resource, key.name) }
            if let expected = expectedResourceVersion, !expected.isEmpty,
                previous[path: ["metadata", "resourceVersion"]]?.stringValue != expected
            {
                throw APIError.conflict(key.resource, key.name)
            }
            var current = previous
            try change(&current)
            current[path: ["metadata", "resourceVersion"]] = previous[path: ["metadata", "resourceVersion"]]
            if current == previous { return previous }
            return self.commit(&state, key, previous: previous, current: current)!
        }
    }

    /// Removes an object and returns its last state carrying the deletion's resourceVersion.
    @discardableResult
    func delete(_ key: ObjectKey) throws(APIError) -> JSON {
        try self.state.withLock { state throws(APIError) in
            guard let previous = state.objects[key] else { throw APIError.notFound(key.resource, key.name) }
            _ = self.commit(&state, key, previous: previous, current: nil)
            var gone = previous
            gone[path: ["metadata", "resourceVersion"]] = .string(String(state.resourceVersion))
            return gone
        }
    }

    /// Registers a watcher and returns its id, after sending what the requested resourceVersion
    /// asks for (section 4.1 of kubernetes-wire.md): nothing to replay for "now", synthetic ADDED
    /// for every object when absent or "0", the changes after N when N is still in the history.
    func watch(
        _ filter: WatchFilter, from resourceVersion: String?, external: Bool = true, sink: @escaping Sink
    ) throws(APIError) -> (id: UInt64, resourceVersion: Int) {
        try self.state.withLock { state throws(APIError) in
            if external { state.watchCounts[filter.resource, default: 0] += 1 }
            if let text = resourceVersion, !text.isEmpty, text != "0" {
                guard let requested = Int(text) else {
                    throw APIError.badRequest("invalid resource version \"\(text)\"")
                }
                if requested > state.resourceVersion {
                    throw APIError.tooLargeResourceVersion(requested: requested, current: state.resourceVersion)
                }
                let oldestKnown = state.history.first?.resourceVersion ?? state.resourceVersion + 1
                if requested < oldestKnown - 1 || requested <= state.compactedThrough {
                    throw APIError.expired(requested: requested, oldest: max(oldestKnown - 1, state.compactedThrough + 1))
                }
                for change in state.history where change.resourceVersion > requested {
                    if let event = filter.event(for: change) { _ = sink(event) }
                }
            } else {
                let current = state.objects
                    .filter { filter.matches($0.key, $0.value) }
                    .sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }
                for (_, object) in current { _ = sink(WatchEvent(kind: .added, object: object)) }
            }
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            state.watchers[id] = Watcher(filter: filter, sink: sink, external: external)
            Self.notify(state)
            return (id, state.resourceVersion)
        }
    }

    func stopWatching(_ id: UInt64) {
        self.state.withLock { state in
            if state.watchers.removeValue(forKey: id) != nil { Self.notify(state) }
        }
    }

    /// Calls `observer` after every change to an object or to the set of watchers, under the lock
    /// (so it must only hand off): lets tests wait for a condition without polling.
    func observe(_ observer: @escaping @Sendable () -> Void) -> UInt64 {
        self.state.withLock { state in
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            state.observers[id] = observer
            return id
        }
    }

    /// Wakes the observers for a change outside the store (a pod backend's connections).
    func notifyObservers() {
        self.state.withLock { Self.notify($0) }
    }

    func stopObserving(_ id: UInt64) {
        _ = self.state.withLock { $0.observers.removeValue(forKey: id) }
    }

    private static func notify(_ state: State) {
        for observer in state.observers.values { observer() }
    }

    /// How many watch requests have been made for a resource since start: lets tests prove that
    /// informers share one watch.
    func watchCount(_ resource: ResourceType) -> Int {
        self.state.withLock { $0.watchCounts[resource, default: 0] }
    }

    var activeClientWatches: Int { self.state.withLock { $0.watchers.values.filter(\.external).count } }

    /// Forgets the history up to now, as etcd's compaction does: a watch resumed from any
    /// resourceVersion handed out so far gets 410 Expired. The revision moves on by one (in a
    /// cluster, leases and events write all the time), so that a list made now gives a
    /// resourceVersion a watch can start from.
    func compactHistory() {
        self.state.withLock { state in
            state.compactedThrough = state.resourceVersion
            state.resourceVersion += 1
            state.history = []
        }
    }

    /// Ends every watch at once (fault injection: what an apiserver restart looks like to clients).
    func dropAllWatches() {
        let sinks = self.state.withLock { state in
            let dropped = state.watchers.filter(\.value.external)
            for id in dropped.keys { state.watchers.removeValue(forKey: id) }
            Self.notify(state)
            return dropped.values.map(\.sink)
        }
        for sink in sinks { _ = sink(nil) }
    }

    private func commit(_ state: inout State, _ key: ObjectKey, previous: JSON?, current: JSON?) -> JSON? {
        state.resourceVersion += 1
        var stamped = current
        stamped?[path: ["metadata", "resourceVersion"]] = .string(String(state.resourceVersion))
        state.objects[key] = stamped
        let change = StoredChange(resourceVersion: state.resourceVersion, key: key, previous: previous, current: stamped)
        state.history.append(change)
        if state.history.count > self.historyLimit {
            state.history.removeFirst(state.history.count - self.historyLimit)
        }
        for (id, watcher) in state.watchers {
            if let event = watcher.filter.event(for: change), !watcher.sink(event) { state.watchers.removeValue(forKey: id) }
        }
        Self.notify(state)
        return stamped
    }
}
