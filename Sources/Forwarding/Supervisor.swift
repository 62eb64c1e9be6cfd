import ChannelGlue
import Foundation
import Signals
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
        let id = UUID()
        var spec: ForwardSpec
        var status: ForwardStatus
        /// Since the last start.
        var traffic: TrafficCounter
        /// Finishing it cancels what the forward's runner waits on now (its run, or the delay
        /// before a retry).
        var interrupt: AsyncStream<Never>.Continuation?
        var stopped: [CheckedContinuation<Bool, Never>] = []
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var shuttingDown = false
    }

    /// What a forward's runner does next: the lifecycle's action, with the spec to run and the
    /// signal that cancels it.
    private struct Step {
        let action: ForwardLifecycle.Action
        let spec: ForwardSpec
        let traffic: TrafficCounter
        let interrupt: AsyncStream<Never>
    }

    /// The informers and clients the forwards share.
    public let cache: KubeClientCache
    /// The relay pods UDP and address forwards go through, shared likewise.
    public let relays: RelayPods
    private let group: any EventLoopGroup
    /// The watch on the machine's network that re-establishes the forwards' connections.
    private let network: NetworkWatch
    /// The schedule each forward's retries start from.
    private let backoff: Backoff
    private let state = Mutex(State())
    private let broadcaster = Broadcaster<ForwardUpdate>()
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let jobsContinuation: AsyncStream<@Sendable () async -> Void>.Continuation

    public init(
        cache: KubeClientCache = KubeClientCache(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        backoff: Backoff = Backoff(), relaySettings: RelaySettings = RelaySettings(), network: NetworkWatch.Settings = NetworkWatch.Settings(),
        logger: Logger = Logger(label: "kfwd")
    ) {
        self.cache = cache
        self.network = NetworkWatch(cache: cache, settings: network, logger: logger)
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
            shared.addTask { await self.network.run() }
            await withDiscardingTaskGroup { forwards in
                for await job in self.jobs { forwards.addTask { await job() } }
                forwards.cancelAll()
            }
            await self.relays.shutdown()
            shared.cancelAll()
        }
        self.broadcaster.finish()
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
        try self.state.withLock { state throws(ForwardError) in
            guard !state.shuttingDown else { throw ForwardError(code: .stopping, "kfwd is stopping: forward '\(spec.alias)' was not started") }
            var entry = state.entries[spec.alias] ?? Entry(spec: spec, status: ForwardStatus(alias: spec.alias), traffic: TrafficCounter())
            guard case .stopped = entry.status.state else {
                throw ForwardError(
                    code: .alreadyRunning, "a forward named '\(spec.alias)' is already running", fix: "stop it first, or choose another alias"
                )
            }
            if state.entries[spec.alias] == nil { state.order.append(spec.alias) }
            entry.spec = spec
            entry.traffic = TrafficCounter()
            entry.status = ForwardStatus(alias: spec.alias)
            state.entries[spec.alias] = entry
            self.transition(spec.alias, in: &state, change: .started) { $0.lifecycle.start() }
        }
    }

    /// Stops a forward and returns once its ports are closed.
    /// - Returns: false when no forward has that alias.
    @discardableResult
    public func stop(_ alias: String) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let known = self.state.withLock { state -> Bool in
                guard var entry = state.entries[alias] else { return false }
                if case .stopped = entry.status.state {
                    continuation.resume(returning: true)
                    return true
                }
                entry.stopped.append(continuation)
                state.entries[alias] = entry
                self.transition(alias, in: &state, change: .command(.stop)) { $0.lifecycle.stop() }
                return true
            }
            if !known { continuation.resume(returning: false) }
        }
    }

    /// Closes a forward's ports and sessions and runs it again at once (started when stopped),
    /// its retries counted afresh.
    /// - Returns: false when no forward has that alias.
    @discardableResult
    public func restart(_ alias: String) -> Bool {
        self.state.withLock { state in
            guard state.entries[alias] != nil, !state.shuttingDown else { return false }
            self.transition(alias, in: &state, change: .command(.restart)) { $0.lifecycle.restart() }
            return true
        }
    }

    /// Gives a forward another spec: a running one restarts with it, a stopped one keeps it for
    /// its next start.
    /// - Returns: false when no forward has that alias.
    @discardableResult
    public func reload(_ spec: ForwardSpec) -> Bool {
        self.state.withLock { state in
            guard var entry = state.entries[spec.alias], !state.shuttingDown else { return false }
            entry.spec = spec
            state.entries[spec.alias] = entry
            if case .stopped = entry.status.state { return true }
            self.transition(spec.alias, in: &state, change: .command(.reload(spec))) { $0.lifecycle.restart() }
            return true
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
        self.broadcaster.subscribe { $0.statusChanged ? $0.status : nil }
    }

    /// Everything that happens to the forwards from now on, after a ``ForwardUpdate/Change/snapshot``
    /// of each: nothing missed or repeated between the two.
    /// - Parameter limit: updates kept for a reader that falls behind (the newest).
    public func events(limit: Int? = nil) -> AsyncStream<ForwardUpdate> {
        self.state.withLock { state in
            let now = Date()
            let snapshot = state.order.compactMap { alias in
                state.entries[alias].map { ForwardUpdate(id: $0.id, change: .snapshot, status: $0.status, statusChanged: false, time: now) }
            }
            return self.broadcaster.subscribe(limit: limit, initial: { continuation in
                for update in snapshot { continuation.yield(update) }
            })
        }
    }

    /// Runs a forward's lifecycle: each run, each wait before a retry, until it is stopped.
    private func drive(_ alias: String, _ first: Step) async {
        var step = first
        var backoff = self.backoff
        while true {
            switch step.action {
            case .run:
                let spec = step.spec
                let traffic = step.traffic
                let failure = await Self.interruptible(step.interrupt) { await self.runOnce(spec, traffic: traffic) } ?? nil
                guard let next = self.advance(alias, change: failure.map { .failed($0) }, { status in
                    status.listening = []
                    guard let failure else { return status.lifecycle.runEnded(nil, retryAfter: .zero) }
                    // A forward that served since its last failure starts its schedule afresh.
                    if status.lifecycle.attempt == 0 { backoff = self.backoff }
                    status.retries += 1
                    status.reconnects += 1
                    status.lastError = failure
                    return status.lifecycle.runEnded(failure, retryAfter: backoff.next())
                }) else { return }
                step = next
            case .wait(let delay):
                _ = await Self.interruptible(step.interrupt) { try? await Task.sleep(for: delay) }
                guard let next = self.advance(alias, change: nil, { $0.lifecycle.retryDue() }) else { return }
                step = next
            case .finish, .none, .cancel:
                return
            }
        }
    }

    /// One run of the forward, until it fails, ends or is cancelled.
    private func runOnce(_ spec: ForwardSpec, traffic: TrafficCounter) async -> ForwardError? {
        do throws(ForwardError) {
            let source = spec.kubeconfigSource
            let forward = ResilientForward(spec: spec, context: try source.resolve(), cache: self.cache, relays: self.relays, traffic: traffic)
            try await forward.run(group: self.group) { event in self.apply(spec.alias, event) }
            return nil
        } catch {
            return error
        }
    }

    /// `body`, unless the interrupt ends first (nil then; `body` is cancelled).
    private static func interruptible<T: Sendable>(_ interrupt: AsyncStream<Never>, _ body: @escaping @Sendable () async -> T) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                for await _ in interrupt {}
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private func apply(_ alias: String, _ event: ForwardEvent) {
        self.state.withLock { state in
            guard var entry = state.entries[alias] else { return }
            let before = entry.status
            entry.status.apply(event)
            state.entries[alias] = entry
            self.publish(entry, change: .event(event), before: before)
        }
    }

    /// The runner's side of a transition: the lifecycle's next action, with what it needs.
    /// Nil when there is nothing more to run (the forward stopped).
    private func advance(_ alias: String, change: ForwardUpdate.Change?, _ transition: (inout ForwardStatus) -> ForwardLifecycle.Action) -> Step? {
        self.state.withLock { state in self.transition(alias, in: &state, change: change, transition) }
    }

    /// Applies a lifecycle transition under the lock and does what it says: a new runner for a
    /// stopped forward, a cancel signalled, a fresh interrupt for what runs next, the waiters of
    /// a stop released. Publishes the change.
    /// - Returns: what the calling runner does next; nil when it has nothing to do.
    @discardableResult
    private func transition(
        _ alias: String, in state: inout State, change: ForwardUpdate.Change?, _ transition: (inout ForwardStatus) -> ForwardLifecycle.Action
    ) -> Step? {
        guard var entry = state.entries[alias] else { return nil }
        let before = entry.status
        let action = entry.status.changing(transition)
        var step: Step?
        switch action {
        case .run, .wait:
            let (interrupt, continuation) = AsyncStream<Never>.makeStream()
            entry.interrupt = continuation
            step = Step(action: action, spec: entry.spec, traffic: entry.traffic, interrupt: interrupt)
        case .cancel:
            entry.interrupt?.finish()
        case .finish:
            entry.interrupt = nil
            entry.status.listening = []
            // Resuming runs nothing here: the waiters continue on their own tasks.
            for waiter in entry.stopped { waiter.resume(returning: true) }
            entry.stopped = []
        case .none:
            break
        }
        state.entries[alias] = entry
        // A run that starts again (a restart, a retry) is a start too.
        if let change = change ?? (action == .run ? .started : nil) { self.publish(entry, change: change, before: before) }
        if action == .finish { self.publish(entry, change: .stopped, before: change == nil ? before : entry.status) }
        if case .stopped = before.state, let first = step {
            // Under the lock, so that a shutdown cannot come between the check and the job.
            self.jobsContinuation.yield { await self.drive(alias, first) }
            return nil
        }
        return step
    }

    /// Called under the lock, so every subscriber sees one forward's changes in order;
    /// publishing never blocks.
    private func publish(_ entry: Entry, change: ForwardUpdate.Change, before: ForwardStatus) {
        self.broadcaster.publish(
            ForwardUpdate(id: entry.id, change: change, status: entry.status, statusChanged: entry.status != before, time: Date())
        )
    }
}
