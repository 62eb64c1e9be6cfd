import Foundation
import KubeClient
import Logging
import NIOCore
import NIOPosix
import RelayProtocol

/// The relay pods of one kfwd process: one per (context, namespace), created when a forward first
/// needs it, shared by every forward there, deleted when the last of them stops.
///
/// A relay allows only the targets it was started with (its environment cannot change), so a
/// forward that needs a target the current relay does not allow gets a new relay allowing every
/// target in use there; the old one is no longer used for new streams, its open streams carry on,
/// and it is deleted with the rest. While a relay is in use kfwd keeps a presence stream open to
/// it: when that stream ends and the pod is gone or no longer ready, the relay is lost and a new
/// one is deployed at once, so that traffic resumes without anyone asking. Relays that a kfwd on
/// this machine left behind (its pid no longer runs) are found by their labels and deleted the
/// first time a namespace is used.
public actor RelayPods {
    /// Where a forward's relay streams go.
    public struct Endpoint: Sendable, Hashable {
        public let pod: String
        public let secret: String
    }

    /// One forward's use of the relays of a namespace.
    public struct Lease: Sendable, Hashable {
        let key: Key
        let id: UInt64
    }

    struct Key: Sendable, Hashable {
        let context: KubeContext
        let namespace: String
    }

    final class Relay {
        let name: String
        let secret: String
        let rules: Set<RelayRule>
        /// Its create request, answered: from then on deleting it leaves nothing behind.
        var created: Task<Void, any Error>?
        /// Created and Ready.
        var ready: Task<Void, any Error>?
        var presence: (any Channel)?
        /// Its NetworkPolicy was created.
        var policy = false
        var retired = false
        /// Streams handed out and not yet finished: a retired relay is deleted when none is left.
        var streams = 0

        init(name: String, secret: String, rules: Set<RelayRule>) {
            self.name = name
            self.secret = secret
            self.rules = rules
        }
    }

    final class Place {
        /// Newest last; only the newest takes new streams.
        var relays: [Relay] = []
        var leases: [UInt64: (rules: Set<RelayRule>, events: @Sendable (ForwardEvent) -> Void)] = [:]
        var swept = false
    }

    public let owner: RelayOwner
    public let settings: RelaySettings
    let cache: KubeClientCache
    let logger: Logger
    var places: [Key: Place] = [:]
    /// Every relay this process deployed: none of them is another kfwd's leftover, even once
    /// replaced (a sweep may list one that is being created or deleted).
    var made: Set<String> = []
    private var nextLease: UInt64 = 0
    /// Relays whose deletion was refused for credentials (rotated or revoked under a forward
    /// that follows its kubeconfig), by cluster and namespace: the next lease there deletes them
    /// with its own, newer credentials.
    var orphans: [Orphanage: [(name: String, policy: Bool)]] = [:]

    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let jobsContinuation: AsyncStream<@Sendable () async -> Void>.Continuation

    public init(cache: KubeClientCache, owner: RelayOwner = .current, settings: RelaySettings = RelaySettings(), logger: Logger = Logger(label: "kfwd.relay")) {
        self.cache = cache
        self.owner = owner
        self.settings = settings
        self.logger = logger
        (self.jobs, self.jobsContinuation) = AsyncStream.makeStream()
    }

    /// Keeps the presence streams of ready relays open and notices lost relays, until cancelled.
    public nonisolated func run() async {
        await withDiscardingTaskGroup { group in
            for await job in self.jobs { group.addTask { await job() } }
            group.cancelAll()
        }
    }

    /// Registers a forward that will send `rules`' traffic through the relay of `namespace`.
    public func lease(_ rules: Set<RelayRule>, context: KubeContext, namespace: String, events: @escaping @Sendable (ForwardEvent) -> Void) -> Lease {
        let key = Key(context: context, namespace: namespace)
        let place = self.places[key] ?? Place()
        self.places[key] = place
        self.nextLease += 1
        place.leases[self.nextLease] = (rules, events)
        if let orphans = self.orphans.removeValue(forKey: Orphanage(server: context.server, namespace: namespace)) {
            self.jobsContinuation.yield { [weak self] in await self?.adopt(orphans, key: key) }
        }
        return Lease(key: key, id: self.nextLease)
    }

    /// The relay a lease's next stream goes to: the newest one of its namespace that allows its
    /// targets, deployed (and waited for) when there is none. Each endpoint handed out must be
    /// given back with ``finished(_:pod:)`` when its stream ends.
    /// - Throws: ``ForwardError`` when the relay cannot be deployed or does not become ready.
    public func endpoint(for lease: Lease) async throws(ForwardError) -> Endpoint {
        guard let place = self.places[lease.key], place.leases[lease.id] != nil else {
            throw ForwardError(code: .relay, "the forward no longer uses a relay")
        }
        if !place.swept {
            place.swept = true
            await self.sweepStale(lease.key)
        }
        while true {
            guard self.places[lease.key] === place, place.leases[lease.id] != nil else {
                throw ForwardError(code: .relay, "the forward no longer uses a relay")
            }
            let relay: Relay
            let rules = place.leases[lease.id]?.rules ?? []
            if let newest = place.relays.last, !newest.retired, newest.rules.isSuperset(of: rules) {
                relay = newest
            } else {
                relay = self.deploy(lease.key, place: place, reason: nil)
            }
            do {
                try await relay.ready?.value
            } catch {
                // Replaced while it started, and deleted as no stream used it: the newer one
                // takes this stream.
                if relay.retired { continue }
                relay.retired = true
                place.relays.removeAll { $0 === relay }
                await self.delete(relay, key: lease.key)
                throw (error as? ForwardError) ?? ForwardError(code: .relay, "relay \(relay.name): \(error)")
            }
            // Replaced while it started (another forward needed more targets): use the newer one.
            guard !relay.retired else { continue }
            relay.streams += 1
            return Endpoint(pod: relay.name, secret: relay.secret)
        }
    }

    /// Adds a target to a lease (UDP to pods: each pod's address as it is first used); the
    /// next ``endpoint(for:)`` deploys a relay allowing it when the current one does not.
    public func allow(_ rule: RelayRule, for lease: Lease) {
        self.places[lease.key]?.leases[lease.id]?.rules.insert(rule)
    }

    /// A stream to `pod` ended. A relay replaced by a newer one (that allows more targets) is
    /// deleted once its last stream ends.
    public func finished(_ lease: Lease, pod: String) async {
        guard let place = self.places[lease.key], let relay = place.relays.first(where: { $0.name == pod }) else { return }
        relay.streams -= 1
        guard relay.retired, relay.streams == 0, place.relays.last !== relay else { return }
        place.relays.removeAll { $0 === relay }
        await self.delete(relay, key: lease.key)
    }

    /// Ends a forward's use; the last one out deletes the namespace's relays.
    public func release(_ lease: Lease) async {
        guard let place = self.places[lease.key] else { return }
        place.leases.removeValue(forKey: lease.id)
        guard place.leases.isEmpty else { return }
        self.places.removeValue(forKey: lease.key)
        for relay in place.relays { await self.stop(relay, key: lease.key) }
    }

    /// Deletes every relay this process made (on its way out).
    public func shutdown() async {
        let all = self.places
        self.places.removeAll()
        for (key, place) in all {
            for relay in place.relays { await self.stop(relay, key: key) }
        }
        self.jobsContinuation.finish()
    }

    /// Retires a relay and deletes its pod, after its creation has ended (deleting one whose
    /// create request is still on its way would leave the pod behind).
    private func stop(_ relay: Relay, key: Key) async {
        relay.retired = true
        relay.ready?.cancel()
        _ = try? await relay.ready?.value
        await self.delete(relay, key: key)
    }

    // MARK: deploying

    /// Starts a relay allowing every target leased in the place; the previous newest one stops
    /// taking new streams.
    private func deploy(_ key: Key, place: Place, reason: String?) -> Relay {
        let rules = place.leases.values.reduce(into: Set<RelayRule>()) { $0.formUnion($1.rules) }
        let relay = Relay(name: "kfwd-relay-\(self.owner.user.prefix(30))-\(Self.suffix())", secret: RelaySecret.generate(), rules: rules)
        for older in place.relays where !older.retired {
            older.retired = true
            // Its open streams carry on; it goes when the last one ends (or now, with none).
            older.presence?.close(promise: nil)
        }
        let idle = place.relays.filter { $0.retired && $0.streams == 0 }
        place.relays.removeAll { $0.retired && $0.streams == 0 }
        place.relays.append(relay)
        self.announce(key, (reason.map { "\($0), redeploying: " } ?? "") + "deploying relay \(relay.name) in namespace \(key.namespace)")
        self.made.insert(relay.name)
        let created = Task { try await self.create(relay, key: key) }
        relay.created = created
        relay.ready = Task {
            try await created.value
            try await self.waitUntilReady(relay, key: key)
            try await self.claim(relay, key: key)
            // Replaced ones nobody streams through go once they exist (deleting one still being
            // created would leave its pod behind), ready or not: whoever waits for one of them
            // moves on to this one.
            for old in idle {
                _ = try? await old.created?.value
                await self.delete(old, key: key)
            }
            self.announce(key, "relay \(relay.name) ready")
        }
        return relay
    }

    private func create(_ relay: Relay, key: Key) async throws {
        let client: KubeClient
        do { client = try self.cache.client(for: key.context) } catch { throw ForwardError(error) }
        if let refusal = await Self.rightsRefusal(cache: self.cache, context: key.context, namespace: key.namespace) { throw refusal }
        let pod = RelayPodSpec.pod(name: relay.name, owner: self.owner, rules: relay.rules, settings: self.settings)
        let created: Pod
        do {
            created = try await client.create(pod, namespace: key.namespace)
        } catch {
            throw ForwardError(code: error.httpStatus == 403 ? .forbidden : .relay, "cannot create relay pod in namespace \(key.namespace): \(error.message)")
        }
        do {
            _ = try await client.create(RelayPodSpec.policy(for: created), namespace: key.namespace)
            relay.policy = true
        } catch {
            // The relay listens on its pod's loopback either way; the policy is a second wall.
            self.announce(
                key,
                "no NetworkPolicy for relay \(relay.name) (\(error.httpStatus == 403 ? "not allowed to create networkpolicies" : error.message)): it still listens on its pod's loopback only"
            )
        }
    }

    /// Why kfwd may not run a relay pod in `namespace`, nil when it may: it needs both `create`
    /// and `delete` on pods, checked before anything is made (a relay kfwd could not delete
    /// would outlive it).
    static func rightsRefusal(cache: KubeClientCache, context: KubeContext, namespace: String) async -> ForwardError? {
        let needed = ["create", "delete"].map { AccessCheck($0, "pods", namespace: namespace) }
        let allowed = await cache.allowed(needed, context: context)
        let missing = needed.filter { !allowed.contains($0) }
        return missing.isEmpty ? nil : FollowPlan.refusal(missing, "kfwd cannot run its relay pod", namespace: namespace, all: true)
    }

    private func waitUntilReady(_ relay: Relay, key: Key) async throws {
        let name = relay.name
        let namespace = key.namespace
        let timeout = self.settings.readyTimeout
        let image = self.settings.image
        let mode = await FollowPlan.podMode(name, namespace: namespace, context: key.context, cache: self.cache)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await self.cache.withInformer(Pod.self, context: key.context, namespace: namespace, mode: mode) { pods in
                    await pods.waitForSync()
                    var seen = false
                    let outcome: Result<Void, ForwardError>? = await StoreChanges.rerun(on: [pods]) {
                        let pod = pods.object(namespace: namespace, name: name)
                        seen = seen || pod != nil
                        // Gone, or being deleted while it started: it will never serve.
                        guard let pod, !pod.isTerminating else {
                            return seen ? .failure(ForwardError(code: .relay, "relay pod \(name) was deleted before it became ready")) : nil
                        }
                        if pod.isReady { return .success(()) }
                        if let phase = pod.status?.phase, phase == "Failed" || phase == "Succeeded" {
                            return .failure(ForwardError(code: .relay, "relay pod \(name) ended (\(phase)) before it became ready"))
                        }
                        if let waiting = pod.status?.containerStatuses?.first?.state?.waiting, let reason = waiting.reason,
                            reason.contains("Image") || reason == "CrashLoopBackOff"
                        {
                            return .failure(ForwardError(
                                "relay pod \(name) cannot start: \(reason)\(waiting.message.map { " (\($0))" } ?? "") — check the relay image '\(image)' (--relay-image)"
                            ))
                        }
                        return nil
                    }
                    if case .failure(let error) = outcome { throw error }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ForwardError(code: .relay, "relay pod \(name) in namespace \(namespace) was not ready within \(timeout)")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    // MARK: presence

    /// Claims a ready relay: its first presence stream makes kfwd's secret the only one the
    /// relay serves (its pod spec holds none). A relay pod without a readiness probe that runs
    /// the relay's check (not every cluster runs them) may be ready before the relay listens:
    /// the presence stream is retried until the relay answers, within the ready timeout.
    private func claim(_ relay: Relay, key: Key) async throws {
        guard !relay.retired else { return }
        let answer = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let timeout = self.settings.readyTimeout
        let deadline = answer.futureResult.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [name = relay.name] in
            answer.fail(ForwardError(code: .relay, "relay pod \(name) did not answer kfwd's presence stream within \(timeout)"))
        }
        defer { deadline.cancel() }
        self.keepPresence(relay, key: key, answer: answer)
        try await withTaskCancellationHandler {
            try await answer.futureResult.get()
        } onCancel: {
            answer.fail(CancellationError())
        }
    }

    /// Opens the relay's presence stream as a job of ``run()`` (completing `answer` with the
    /// relay's first status); when it ends while the relay is still the one in use, decides
    /// whether the relay was lost.
    private func keepPresence(_ relay: Relay, key: Key, answer: EventLoopPromise<Void>) {
        let name = relay.name
        let header = RelayHeader.presence(secret: relay.secret)
        self.jobsContinuation.yield { [weak self] in
            guard let self else { return }
            var backoff = Backoff(initial: .milliseconds(200), cap: .seconds(5))
            // A relay replaced or lost before it answered is not claimed: whoever waits for the
            // claim moves on (to the replacement) at once.
            defer { answer.fail(ForwardError(code: .relay, "relay \(name) was retired before it answered")) }
            while !Task.isCancelled {
                await self.holdPresence(name: name, header: header, key: key, answer: answer)
                switch await self.afterPresence(name: name, key: key) {
                case .stop: return
                case .retry: try? await Task.sleep(for: backoff.next())
                }
            }
        }
    }

    private enum AfterPresence { case stop, retry }

    private nonisolated func holdPresence(name: String, header: RelayHeader, key: Key, answer: EventLoopPromise<Void>) async {
        guard let client = try? self.cache.client(for: key.context) else { return }
        let transport = PortForwardTransportKind.auto.transport(client: client) { _ in }
        defer { transport.shutdown() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        do {
            let (spliced, inner) = try await LocalPipe.make(on: loop) { channel in
                try channel.pipeline.syncOperations.addHandler(PresenceHandler(relay: name, answer: answer))
            }
            defer {
                spliced.close(promise: nil)
                inner.close(promise: nil)
            }
            inner.writeAndFlush(header.bytes, promise: nil)
            await self.presenceOpened(name: name, key: key, channel: inner)
            let stream = try await transport.open(namespace: key.namespace, pod: name, port: RelaySettings.port, on: loop)
            try await stream.splice(with: spliced)
        } catch {
            self.logger.debug("relay presence ended", metadata: ["kfwd.pod": "\(key.namespace)/\(name)", "error": "\(error)"])
        }
    }

    private func presenceOpened(name: String, key: Key, channel: any Channel) {
        guard let relay = self.places[key]?.relays.first(where: { $0.name == name }), !relay.retired else {
            channel.close(promise: nil)
            return
        }
        relay.presence = channel
    }

    /// The presence stream ended: stop if the relay is no longer wanted, keep it if its pod is
    /// still ready (the connection dropped, not the relay), else deploy a new one.
    private func afterPresence(name: String, key: Key) async -> AfterPresence {
        guard let place = self.places[key], let relay = place.relays.first(where: { $0.name == name }), !relay.retired else { return .stop }
        relay.presence = nil
        return await self.check(name: name, key: key)
    }

    private func check(name: String, key: Key) async -> AfterPresence {
        guard let relay = self.places[key]?.relays.first(where: { $0.name == name }), !relay.retired else { return .stop }
        guard let client = try? self.cache.client(for: key.context) else { return .retry }
        let pod: Pod
        do {
            pod = try await client.get(Pod.self, name, namespace: key.namespace)
        } catch where error.isNotFound {
            return await self.lost(relay, key: key, reason: "relay \(name) lost (its pod was deleted)")
        } catch {
            return .retry
        }
        guard !relay.retired else { return .stop }
        if pod.isReady && !pod.isTerminating { return .retry }
        return await self.lost(relay, key: key, reason: "relay \(name) lost (its pod is \(pod.isTerminating ? "terminating" : pod.status?.phase ?? "not ready"))")
    }

    /// A stream to `pod` failed before the relay answered: checks the relay as a presence
    /// stream's end does, and deploys a new one when it was lost.
    public func suspect(_ lease: Lease, pod: String) async {
        guard let relay = self.places[lease.key]?.relays.first(where: { $0.name == pod }), !relay.retired else { return }
        _ = await self.check(name: pod, key: lease.key)
    }

    private func lost(_ relay: Relay, key: Key, reason: String) async -> AfterPresence {
        guard let place = self.places[key], !relay.retired else { return .stop }
        relay.retired = true
        place.relays.removeAll { $0 === relay }
        _ = self.deploy(key, place: place, reason: reason)
        await self.delete(relay, key: key)
        return .stop
    }

    func announce(_ key: Key, _ message: String) {
        guard let place = self.places[key] else { return }
        for lease in place.leases.values { lease.events(.relay(message)) }
    }

    private static func suffix() -> String {
        String((0..<5).map { _ in "bcdfghjklmnpqrstvwxz2456789".randomElement()! })
    }
}
