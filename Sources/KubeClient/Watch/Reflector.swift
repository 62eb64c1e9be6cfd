import Foundation
import Logging
import Signals
import Synchronization

/// List, then watch from the list's resourceVersion, for as long as the task runs, following
/// client-go's reflector (tools/cache/reflector.go): server-side timeouts in [5, 10) minutes end
/// in an immediate re-watch from the last resourceVersion seen (event or bookmark); 410 Expired
/// and API errors relist after a backoff; a broken connection re-watches after a backoff; a
/// watch that ends in under a second with no events counts as a failure.
public struct Reflector<T: KubeResource>: Sendable {
    public let client: KubeClient
    public let namespace: String?
    public let labelSelector: String?
    public let fieldSelector: String?
    /// Server-side watch lifetime range (client-go: 5 to 10 minutes).
    public var watchTimeout: ClosedRange<Int> = 300...599
    /// How the objects are followed.
    public var mode: ReflectorMode = .watch

    public init(client: KubeClient, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    /// Runs until cancelled. `replace` gets every (re)list; `apply` every watch event;
    /// `failure` every failed list or watch, and `connected` every watch the server accepted
    /// (so a recovery shows even when nothing changed meanwhile). Each fire of `rewatch` ends
    /// the current watch (or the wait before the next try) and watches again at once from the
    /// last resourceVersion: after a network change, a watch may be dead without knowing it.
    public func run(
        rewatch: Ticker? = nil,
        replace: @escaping @Sendable ([T], String) async -> Void,
        apply: @escaping @Sendable (WatchEvent<T>) async -> Void,
        failure: @Sendable (KubeError) async -> Void = { _ in },
        connected: @escaping @Sendable () async -> Void = {}
    ) async {
        if case .watch = self.mode {} else {
            await self.poll(rewatch: rewatch, replace: replace, failure: failure)
            return
        }
        var backoff = Backoff()
        // Where the watch stands, shared with the attempt an interrupt may cancel.
        let position = Position()
        while !Task.isCancelled {
            do {
                let interrupted = try await Self.unless(rewatch) {
                    if position.resourceVersion == nil {
                        let list = try await self.client.list(
                            T.self, namespace: self.namespace, labelSelector: self.labelSelector, fieldSelector: self.fieldSelector
                        )
                        let version = list.metadata.resourceVersion ?? ""
                        position.resourceVersion = version
                        await replace(list.items, version)
                    }
                    let started = ContinuousClock.now
                    var events = 0
                    let from = position.resourceVersion
                    try await self.client.watch(
                        T.self, namespace: self.namespace, labelSelector: self.labelSelector, fieldSelector: self.fieldSelector,
                        resourceVersion: from, timeoutSeconds: Int.random(in: self.watchTimeout), onOpen: connected
                    ) { event in
                        events += 1
                        switch event {
                        case .bookmark(let version, _):
                            if !version.isEmpty { position.resourceVersion = version }
                        case .added(let object), .modified(let object), .deleted(let object):
                            if let version = object.metadata.resourceVersion { position.resourceVersion = version }
                            await apply(event)
                        }
                    }
                    if events == 0 && ContinuousClock.now - started < .seconds(1) {
                        throw KubeError.transport("very short watch of \(T.plural): the server closed it at once")
                    }
                }
                if interrupted { backoff = Backoff() }
            } catch let error as KubeError {
                if Task.isCancelled { return }
                await failure(error)
                // API errors (410 Expired among them) mean the watch position is unusable: relist.
                if error.code == .api || error.code == .decoding { position.resourceVersion = nil }
                let delay = backoff.next()
                do {
                    if try await Self.unless(rewatch, { try await Task.sleep(for: delay) }) { backoff = Backoff() }
                } catch {
                    return
                }
            } catch {
                return
            }
        }
    }

    /// Reads the objects at each interval (``Mode/list(every:)``, ``Mode/get(name:every:)``),
    /// with backoff while reading fails; a fire of `rewatch` reads at once.
    private func poll(
        rewatch: Ticker?, replace: @escaping @Sendable ([T], String) async -> Void, failure: @Sendable (KubeError) async -> Void
    ) async {
        var backoff = Backoff()
        while !Task.isCancelled {
            let wait: Duration
            do {
                switch self.mode {
                case .watch:
                    return
                case .list(let every):
                    let list = try await self.client.list(T.self, namespace: self.namespace, labelSelector: self.labelSelector, fieldSelector: self.fieldSelector)
                    await replace(list.items, list.metadata.resourceVersion ?? "")
                    wait = every
                case .get(let name, let every):
                    do {
                        let object = try await self.client.get(T.self, name, namespace: self.namespace)
                        await replace([object], object.metadata.resourceVersion ?? "")
                    } catch where error.isNotFound {
                        await replace([], "")
                    }
                    wait = every
                }
                backoff = Backoff()
            } catch {
                if Task.isCancelled { return }
                await failure(error)
                wait = backoff.next()
            }
            do { _ = try await Self.unless(rewatch) { try await Task.sleep(for: wait) } } catch { return }
        }
    }

    private final class Position: Sendable {
        private let state = Mutex<String?>(nil)
        var resourceVersion: String? {
            get { self.state.withLock { $0 } }
            set { self.state.withLock { $0 = newValue } }
        }
    }

    private enum Ending: Sendable { case finished, interrupted, cancelled }

    /// Runs `body` unless `interrupts` fires first, which cancels it.
    /// - Returns: whether it was interrupted.
    private static func unless(_ interrupts: Ticker?, _ body: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        guard let interrupts else {
            try await body()
            return false
        }
        // A stream per call: one whose reader was cancelled is finished for good.
        let (fired, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let registration = interrupts.tick(continuation)
        defer { interrupts.stopTicking(registration) }
        return try await withThrowingTaskGroup(of: Ending.self) { group in
            group.addTask {
                try await body()
                return .finished
            }
            group.addTask {
                for await _ in fired { return .interrupted }
                return .cancelled
            }
            defer { group.cancelAll() }
            // The interrupt's task ends without a signal only when cancelled, and then so is
            // the body, which says how it ended.
            while let ending = try await group.next() {
                switch ending {
                case .finished: return false
                case .interrupted: return true
                case .cancelled: continue
                }
            }
            return false
        }
    }
}
