import ChannelGlue
import KubeClient
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Runs many forwards in one process, each independent of the others: one that cannot start
/// (a busy port, a bad kubeconfig, a missing pod) says why and tries again with jittered
/// exponential backoff, while the rest keep serving. Forwards share one ``KubeClientCache``, so
/// ten forwards in a namespace cost one list and one watch per kind. No global state: a
/// supervisor lives while ``run()`` runs, and everything it started stops with it.
public final class Supervisor: Sendable {
    private struct Entry {
        var spec: ForwardSpec
        var status: ForwardStatus
        /// Since this start.
        let traffic: TrafficCounter
        /// Finishing it stops the forward.
        var stop: AsyncStream<Never>.Continuation?
        var stopped: [CheckedContinuation<Bool, Never>] = []
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var subscribers: [UInt64: AsyncStream<ForwardStatus>.Continuation] = [:]
        var nextSubscriber: UInt64 = 0
        var shuttingDown = false
    }

    /// The informers and clients the forwards share.
    public let cache: KubeClientCache
    /// The relay pods UDP and address forwards go through, shared likewise.
    public let relays: RelayPods
    private let group: any EventLoopGroup
    /// The schedule each forward's retries start from.
    private let backoff: Backoff
    private let state = Mutex(State())
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let jobsContinuation: AsyncStream<@Sendable () async -> Void>.Continuation

    public init(
        cache: KubeClientCache = KubeClientCache(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        backoff: Backoff = Backoff(), relaySettings: RelaySettings = RelaySettings()
    ) {
        self.cache = cache
        self.relays = RelayPods(cache: cache, settings: relaySettings)
        self.group = group
        self.backoff = backoff
        (self.jobs, self.jobsContinuation) = AsyncStream.makeStream()
    }

    /// Runs the forwards and their shared informers until ``shutdown()``, then stops them all,
    /// deletes their relay pods, shuts the clients down and returns.
    ///
    /// Cancelling it instead stops everything at once, relay pods left behind: a cancelled task's
    /// requests never reach the cluster. The next kfwd on this machine removes them.
    public func run() async {
        await withDiscardingTaskGroup { shared in
            shared.addTask { await self.cache.run() }
            shared.addTask { await self.relays.run() }
            await withDiscardingTaskGroup { forwards in
                for await job in self.jobs { forwards.addTask { await job() } }
                forwards.cancelAll()
            }
            await self.relays.shutdown()
            shared.cancelAll()
        }
    }

    /// Stops every forward; ``run()`` returns once they have stopped and their relay pods are
    /// deleted. Starts from now on are refused.
    public func shutdown() {
        self.state.withLock { state in
            state.shuttingDown = true
            self.jobsContinuation.finish()
        }
    }

    /// Starts a forward under its alias; a stopped forward of that alias is replaced.
    /// - Throws: ``ForwardError`` when a forward of that alias is already running, or kfwd is
    ///   stopping.
    public func start(_ spec: ForwardSpec) throws(ForwardError) {
        let (stopSignal, stop) = AsyncStream<Never>.makeStream()
        let traffic = TrafficCounter()
        try self.state.withLock { state throws(ForwardError) in
            guard !state.shuttingDown else { throw ForwardError("kfwd is stopping: forward '\(spec.alias)' was not started") }
            if let existing = state.entries[spec.alias], existing.stop != nil {
                throw ForwardError("a forward named '\(spec.alias)' is already running: stop it first, or choose another alias")
            }
            if state.entries[spec.alias] == nil { state.order.append(spec.alias) }
            let entry = Entry(spec: spec, status: ForwardStatus(alias: spec.alias), traffic: traffic, stop: stop)
            state.entries[spec.alias] = entry
            Self.publish(entry.status, to: &state)
            // Under the lock, so that a shutdown cannot come between the check and the job.
            self.jobsContinuation.yield {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.keepRunning(spec, traffic: traffic) }
                    group.addTask { for await _ in stopSignal {} }
                    await group.next()
                    group.cancelAll()
                }
                self.finish(spec.alias)
            }
        }
    }

    /// Stops a forward and returns once its ports are closed.
    /// - Returns: false when no forward has that alias.
    @discardableResult
    public func stop(_ alias: String) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            enum Next { case unknown, alreadyStopped, stop(AsyncStream<Never>.Continuation) }
            let next = self.state.withLock { state -> Next in
                guard var entry = state.entries[alias] else { return .unknown }
                guard let stop = entry.stop else { return .alreadyStopped }
                entry.stopped.append(continuation)
                state.entries[alias] = entry
                return .stop(stop)
            }
            switch next {
            case .unknown: continuation.resume(returning: false)
            case .alreadyStopped: continuation.resume(returning: true)
            case .stop(let stop): stop.finish()
            }
        }
    }

    /// Every forward ever started here, in start order, with its current status.
    public func list() -> [ForwardStatus] {
        self.state.withLock { state in state.order.compactMap { state.entries[$0]?.status } }
    }

    /// The bytes a forward carried since it was last started.
    public func traffic(_ alias: String) -> TrafficCounter? {
        self.state.withLock { $0.entries[alias]?.traffic }
    }

    /// What a forward was started with.
    public func spec(_ alias: String) -> ForwardSpec? {
        self.state.withLock { $0.entries[alias]?.spec }
    }

    public func status(_ alias: String) -> ForwardStatus? {
        self.state.withLock { $0.entries[alias]?.status }
    }

    /// Every status change from now on, for any forward.
    public func updates() -> AsyncStream<ForwardStatus> {
        let (stream, continuation) = AsyncStream<ForwardStatus>.makeStream()
        // Dropped at the next publish once ended, not from onTermination: cancellation runs that
        // under the consuming task's lock, which a yield under this lock also takes.
        self.state.withLock { state in
            state.subscribers[state.nextSubscriber] = continuation
            state.nextSubscriber += 1
        }
        return stream
    }

    /// Starts the forward, and starts it again after each failed start until stopped.
    private func keepRunning(_ spec: ForwardSpec, traffic: TrafficCounter) async {
        var attempt = 0
        var backoff = self.backoff
        while !Task.isCancelled {
            do throws(ForwardError) {
                let source = spec.kubeconfigSource
                let context = try source.resolve()
                var forward = ResilientForward(
                    cache: self.cache, context: context, namespace: source.namespace ?? context.namespace, target: spec.target,
                    mappings: spec.mappings, addresses: spec.addresses
                )
                forward.podWait = spec.podWait
                forward.sticky = spec.sticky
                forward.warmStreams = spec.warmStreams
                forward.transport = spec.transport
                forward.kubeconfigSource = source
                forward.udp = spec.udp
                forward.relays = self.relays
                forward.traffic = traffic
                try await forward.run(group: self.group) { event in self.update(spec.alias) { $0.apply(event) } }
                return
            } catch {
                attempt += 1
                let delay = backoff.next()
                self.update(spec.alias) { status in
                    status.retries = attempt
                    status.reconnects += 1
                    status.lastError = error.message
                    status.listening = []
                    status.pods = []
                    status.enter(.retrying(reason: error.message, after: delay))
                }
                try? await Task.sleep(for: delay)
            }
        }
    }

    private func update(_ alias: String, _ change: (inout ForwardStatus) -> Void) {
        self.state.withLock { state in
            guard var entry = state.entries[alias] else { return }
            let before = entry.status
            change(&entry.status)
            guard entry.status != before else { return }
            state.entries[alias] = entry
            Self.publish(entry.status, to: &state)
        }
    }

    private func finish(_ alias: String) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard var entry = state.entries[alias] else { return [] }
            let waiters = entry.stopped
            entry.stop = nil
            entry.stopped = []
            entry.status.listening = []
            entry.status.pods = []
            entry.status.enter(.stopped)
            state.entries[alias] = entry
            Self.publish(entry.status, to: &state)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Called under the lock, so every subscriber sees one forward's changes in order;
    /// yielding never blocks.
    private static func publish(_ status: ForwardStatus, to state: inout State) {
        for (id, subscriber) in state.subscribers {
            if case .terminated = subscriber.yield(status) { state.subscribers.removeValue(forKey: id) }
        }
    }
}
