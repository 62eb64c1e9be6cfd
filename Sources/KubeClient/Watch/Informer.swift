import Foundation
import Signals
import Synchronization

/// A change to an informer's store.
public enum InformerEvent<T: KubeResource>: Sendable {
    case added(T)
    case modified(old: T, new: T)
    case deleted(T)
    /// The store was (re)filled from a list; individual differences were also reported.
    case synced
}

/// An in-memory copy of the objects one list+watch selects, kept current by a ``Reflector``, with
/// a stream of changes for each subscriber. Reads never touch the API server.
public final class Informer<T: KubeResource>: Sendable {
    private struct State {
        var objects: [String: T] = [:]
        var synced = false
        var lastError: KubeError?
    }

    private let state = Mutex(State())
    /// Every change, to each stream of ``changes()``; published under the state's lock, so a
    /// subscriber's first `.synced` and what follows never cross.
    private let subscribers = Broadcaster<InformerEvent<T>>()
    /// Fired after every change of the store and of ``lastError``.
    private let ticker = Ticker()
    /// Nil for a fixture: a store filled by hand, with no cluster behind it.
    let reflector: Reflector<T>?
    /// Fired to make the reflector watch again at once from where it stands.
    private let rewatches = Ticker()

    init(reflector: Reflector<T>) {
        self.reflector = reflector
    }

    /// A synced store holding `objects` and nothing behind it, which ``apply(_:)`` changes: for
    /// tests of what reads informers (choosing pods), with no cluster.
    static func fixture(_ objects: [T]) -> Informer<T> {
        let informer = Informer(reflector: nil)
        informer.replace(objects)
        return informer
    }

    private init(reflector: Reflector<T>?) {
        self.reflector = reflector
    }

    /// Every object now in the store, sorted by namespace and name.
    public var objects: [T] {
        self.state.withLock { $0.objects.sorted { $0.key < $1.key }.map(\.value) }
    }

    /// The objects that pass `isIncluded`, sorted by namespace and name; only those are sorted,
    /// so a namespace-wide informer stays cheap to read for one Service's slices.
    public func objects(where isIncluded: (T) -> Bool) -> [T] {
        self.state.withLock { state in
            state.objects.filter { isIncluded($0.value) }.sorted { $0.key < $1.key }.map(\.value)
        }
    }

    public func object(namespace: String?, name: String) -> T? {
        self.state.withLock { $0.objects[Self.key(namespace, name)] }
    }

    /// Counts the changes of the store (and of ``lastError``): what was read from the store at
    /// one revision holds until the next.
    public var revision: UInt64 { self.ticker.revision }

    /// Whether the first list has arrived.
    public var hasSynced: Bool { self.state.withLock { $0.synced } }

    /// The last error of the list+watch loop, nil once it recovers.
    public var lastError: KubeError? { self.state.withLock { $0.lastError } }

    /// Changes from now on; `.synced` first when the store is already filled.
    public func changes() -> AsyncStream<InformerEvent<T>> {
        self.state.withLock { state in
            self.subscribers.subscribe(initial: { continuation in
                if state.synced { continuation.yield(.synced) }
            })
        }
    }

    /// Yields to `continuation` after every change of the store (one stream can listen to
    /// several informers); returns the registration to pass to ``stopTicking(_:)``.
    public func tick(_ continuation: AsyncStream<Void>.Continuation) -> UInt64 {
        self.ticker.tick(continuation)
    }

    public func stopTicking(_ id: UInt64) {
        self.ticker.stopTicking(id)
    }

    /// Waits until the first list has filled the store.
    public func waitForSync() async {
        for await event in self.changes() {
            if case .synced = event { return }
        }
    }

    func run() async {
        guard let reflector = self.reflector else { return }
        await reflector.run(
            rewatch: self.rewatches,
            replace: { items, _ in self.replace(items) },
            apply: { event in self.apply(event) },
            failure: { error in self.setError(error) },
            connected: { self.setError(nil) }
        )
        self.subscribers.finish()
    }

    /// Ends the current watch (or the wait before the next try) and watches again at once from
    /// the last resourceVersion seen: after a network change the watch may be dead unawares.
    public func rewatch() {
        self.rewatches.fire()
    }

    /// Records the list+watch loop's health; a change wakes the tickers, so that forwards can
    /// say the API is unreachable, and that it is back, when it happens.
    private func setError(_ error: KubeError?) {
        self.state.withLock { state in
            let changed = (state.lastError == nil) != (error == nil)
            state.lastError = error
            if changed { self.ticker.fire() }
        }
    }

    private static func key(_ namespace: String?, _ name: String?) -> String {
        "\(namespace ?? "")/\(name ?? "")"
    }

    private func replace(_ items: [T]) {
        self.state.withLock { state in
            // A relist that changes nothing (a polling reflector's, mostly) moves no revision.
            let wasCurrent = state.synced && state.lastError == nil
            state.lastError = nil
            var fresh: [String: T] = [:]
            for item in items { fresh[Self.key(item.metadata.namespace, item.metadata.name)] = item }
            var events: [InformerEvent<T>] = []
            for (key, old) in state.objects where fresh[key] == nil { events.append(.deleted(old)) }
            for (key, new) in fresh {
                if let old = state.objects[key] {
                    if old.metadata.resourceVersion != new.metadata.resourceVersion { events.append(.modified(old: old, new: new)) }
                } else {
                    events.append(.added(new))
                }
            }
            state.objects = fresh
            state.synced = true
            let changed = !events.isEmpty || !wasCurrent
            events.append(.synced)
            for event in events { self.subscribers.publish(event) }
            if changed { self.ticker.fire() }
        }
    }

    /// Folds one watch event into the store.
    func apply(_ event: WatchEvent<T>) {
        self.state.withLock { state in
            state.lastError = nil
            let change: InformerEvent<T>
            switch event {
            case .added(let object), .modified(let object):
                let key = Self.key(object.metadata.namespace, object.metadata.name)
                let old = state.objects[key]
                state.objects[key] = object
                change = old.map { .modified(old: $0, new: object) } ?? .added(object)
            case .deleted(let object):
                state.objects.removeValue(forKey: Self.key(object.metadata.namespace, object.metadata.name))
                change = .deleted(object)
            case .bookmark:
                return
            }
            self.subscribers.publish(change)
            self.ticker.fire()
        }
    }
}
