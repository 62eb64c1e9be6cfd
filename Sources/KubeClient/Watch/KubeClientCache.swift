import Foundation
import Logging
import Synchronization

/// Shares clients and informers: one ``KubeClient`` (so one HTTP client) per context, and one
/// informer, so one list and one watch, per (context, resource, namespace, selectors), however
/// many users ask for it. Informers run in the cache's own task group (``run()``) and stop when
/// their last user releases them.
public final class KubeClientCache: Sendable {
    private struct InformerKey: Hashable, Sendable {
        let context: KubeContext
        let resource: String
        let namespace: String?
        let labelSelector: String
        let fieldSelector: String
        let mode: ReflectorMode
    }

    private struct Shared {
        let value: any Sendable
        var users: Int
        let stop: AsyncStream<Never>.Continuation
    }

    /// A key of ``withShared(_:make:run:_:)``: made only from `Sendable` keys, which
    /// `AnyHashable` does not say.
    private struct SharedKey: Hashable, @unchecked Sendable {
        let base: AnyHashable
    }

    /// Informers and the engine's shared values (a prober per pod set), by key.
    private let shared = Mutex<[SharedKey: Shared]>([:])
    /// nil once ``run()`` has shut the clients down: a client made after that would never be.
    private let clients = Mutex<[KubeContext: KubeClient]?>([:])
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let jobsContinuation: AsyncStream<@Sendable () async -> Void>.Continuation
    private let options: KubeClient.Options
    private let logger: Logger
    /// Answers of access reviews, per context, with when they were given.
    let accessAnswers = Mutex<[AccessKey: (allowed: Bool, at: ContinuousClock.Instant)]>([:])

    struct AccessKey: Hashable, Sendable {
        let context: KubeContext
        let check: AccessCheck
    }

    public init(options: KubeClient.Options = KubeClient.Options(), logger: Logger = Logger(label: "kfwd.kube")) {
        (self.jobs, self.jobsContinuation) = AsyncStream.makeStream()
        self.options = options
        self.logger = logger
    }

    /// Runs the shared informers until cancelled, then shuts every client down; from then on
    /// ``client(for:)`` refuses. So whatever still needs the cluster on the way out (deleting
    /// relay pods) must finish before this task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await job in self.jobs { group.addTask { await job() } }
        }
        let clients = self.clients.withLock { state in
            defer { state = nil }
            return state.map { Array($0.values) } ?? []
        }
        for client in clients { try? await client.shutdown() }
    }

    /// The shared client of a context.
    /// - Throws: ``KubeError`` when the context's kubeconfig cannot be used, or the cache has
    ///   stopped.
    public func client(for context: KubeContext) throws(KubeError) -> KubeClient {
        switch self.clients.withLock({ $0.map { $0[context] } }) {
        case .none: throw Self.stopped
        case .some(.some(let client)): return client
        case .some(.none): break
        }
        let client = try KubeClient(context: context, options: self.options, logger: self.logger)
        let shared = self.clients.withLock { state -> KubeClient? in
            guard state != nil else { return nil }
            if let existing = state?[context] { return existing }
            state?[context] = client
            return client
        }
        // Made while the cache stopped: it has no connection yet, so nothing to shut down.
        guard let shared else { throw Self.stopped }
        return shared
    }

    private static let stopped = KubeError.transport("kfwd is stopping: no new requests to the cluster")

    /// Runs `body` with the shared informer for this key, starting it if nobody holds it yet and
    /// stopping it when the last holder leaves.
    public func withInformer<T: KubeResource, R: Sendable>(
        _ type: T.Type, context: KubeContext, namespace: String?, labelSelector: String = "", fieldSelector: String = "",
        mode: ReflectorMode = .watch, _ body: (Informer<T>) async throws -> R
    ) async throws -> R {
        let key = InformerKey(
            context: context, resource: "\(T.apiVersion)/\(T.plural)", namespace: T.namespaced ? namespace : nil,
            labelSelector: labelSelector, fieldSelector: fieldSelector, mode: mode
        )
        let client = try self.client(for: context)
        let make: @Sendable () -> Informer<T> = {
            var reflector = Reflector<T>(client: client, namespace: key.namespace, labelSelector: key.labelSelector, fieldSelector: key.fieldSelector)
            reflector.mode = mode
            return Informer(reflector: reflector)
        }
        return try await self.withShared(key, make: make, run: { await $0.run() }, body)
    }

    /// Runs `body` with the value shared under `key`: made with `make` and run with `run` in the
    /// cache's task group by its first user, stopped when its last user leaves. Informers live
    /// here, and what the engine keeps once per cluster for many forwards (a pod's prober).
    public func withShared<Value: Sendable, R>(
        _ key: some Hashable & Sendable, make: @Sendable () -> Value, run: @escaping @Sendable (Value) async -> Void, _ body: (Value) async throws -> R
    ) async rethrows -> R {
        let key = SharedKey(base: AnyHashable(key))
        let value: Value = self.shared.withLock { table in
            if var entry = table[key], let value = entry.value as? Value {
                entry.users += 1
                table[key] = entry
                return value
            }
            let value = make()
            let (stopped, stop) = AsyncStream<Never>.makeStream()
            table[key] = Shared(value: value, users: 1, stop: stop)
            self.jobsContinuation.yield {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await run(value) }
                    group.addTask { for await _ in stopped {} }
                    await group.next()
                    group.cancelAll()
                }
            }
            return value
        }
        defer {
            let stop = self.shared.withLock { table -> AsyncStream<Never>.Continuation? in
                guard var entry = table[key] else { return nil }
                entry.users -= 1
                if entry.users > 0 {
                    table[key] = entry
                    return nil
                }
                table.removeValue(forKey: key)
                return entry.stop
            }
            stop?.finish()
        }
        return try await body(value)
    }

    /// The clients made so far (each for a context in use, or used once).
    public var activeClients: [KubeClient] {
        self.clients.withLock { $0.map { Array($0.values) } ?? [] }
    }

    /// After a network change, once `client`'s API server answers: REST moves to new
    /// connections, its port-forward sessions are rechecked (``NetworkNotice/reestablished(outage:reason:)``
    /// reaches every transport and forward on it) and its informers watch again at once from
    /// where they stood.
    public func reestablish(_ client: KubeClient, outage: Duration, reason: String) {
        client.announce(.reestablished(outage: outage, reason: reason))
        let informers = self.shared.withLock { table in table.values.compactMap { $0.value as? any ClusterWatching } }
        for informer in informers where informer.context == client.context { informer.rewatch() }
    }

    /// How many informers are running.
    public var runningInformers: Int { self.shared.withLock { table in table.values.filter { $0.value is any ClusterWatching }.count } }
}

/// What follows a cluster and can be told to watch it again: an informer.
protocol ClusterWatching: Sendable {
    var context: KubeContext? { get }
    func rewatch()
}

extension Informer: ClusterWatching {
    var context: KubeContext? { self.reflector?.client.context }
}
