import ChannelGlue
import KubeClient
import KubeLabels
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A forward to a Service, a Deployment or a label selector that follows the pods: each new
/// connection goes to a ready, non-terminating pod chosen from the shared informer store (in
/// turn over all of them, as a Service with `sessionAffinity: None` spreads connections, or one
/// pod while it stays ready when sticky), moves
/// to another pod when the chosen one refuses before any byte was read, and is held (up to
/// ``podWait``) while no pod is ready. Watch events change the choice at once; nothing polls.
public struct ResilientForward: Sendable {
    public let cache: KubeClientCache
    /// The context, and the namespace in it; a forward following its kubeconfig runs again with
    /// new ones (``runRelay(_:group:events:)``).
    public internal(set) var context: KubeContext
    public internal(set) var namespace: String
    public let target: ForwardTarget
    public internal(set) var mappings: [PortMapping]
    public let addresses: ListenAddresses
    /// How long a new connection waits for a ready pod before it is closed.
    public var podWait: Duration = .seconds(30)
    /// Keep sending new connections to one pod while it stays ready (`--sticky`); a Service with
    /// `sessionAffinity: ClientIP` is sticky by itself.
    public var sticky = false
    /// Keep one stream open ahead per remote port, so that new connections skip the TLS
    /// handshake and the upgrade; for the WebSocket transport only (SPDY and the tunnel keep a
    /// session per pod instead, which costs the pods nothing). Off by default: the pod's runtime dials the backend
    /// when the stream opens, and a pod shutting down closes such an idle connection, so a
    /// request that takes it at that instant is lost where a fresh dial would have been refused
    /// and replayed on another pod (docs/benchmarks.md has the measurements both ways).
    public var warmStreams = false
    /// Where ``context`` came from; when set, the forward follows changes of that kubeconfig.
    public var kubeconfigSource: KubeconfigSource?
    /// The port-forward protocol: negotiated (`auto`, reported once as ``ForwardEvent/transport(_:)``)
    /// or forced.
    public var transport: PortForwardTransportKind = .auto
    /// Forward UDP (through the relay) instead of TCP.
    public var udp = false
    /// Deploys the relays that UDP and address forwards go through; shared by the forwards of
    /// a process.
    public var relays: RelayPods?
    /// Counts the bytes of every local connection and datagram.
    public var traffic: TrafficCounter?
    /// How the pods in use are checked through the tunnel (services, deployments and selectors);
    /// a pod failing it gets no new connections while another passes.
    public var probe: ProbeSpec = .connect
    /// How often; zero turns probing off.
    public var probeInterval: Duration = .seconds(10)

    public init(
        cache: KubeClientCache, context: KubeContext, namespace: String, target: ForwardTarget, mappings: [PortMapping],
        addresses: ListenAddresses = .localhost
    ) {
        self.cache = cache
        self.context = context
        self.namespace = namespace
        self.target = target
        self.mappings = mappings
        self.addresses = addresses
    }

    /// The forward a spec describes, in `context` (resolved from the spec's kubeconfig, which it
    /// then follows): the one way the CLI, `kfwd up`, the demo and the daemon build forwards.
    public init(spec: ForwardSpec, context: KubeContext, cache: KubeClientCache, relays: RelayPods?, traffic: TrafficCounter?) {
        self.init(
            cache: cache, context: context, namespace: spec.namespace ?? context.namespace, target: spec.target, mappings: spec.mappings,
            addresses: spec.addresses
        )
        self.podWait = spec.podWait
        self.sticky = spec.sticky
        self.warmStreams = spec.warmStreams
        self.transport = spec.transport
        self.kubeconfigSource = spec.kubeconfigSource
        self.udp = spec.udp
        self.probe = spec.probe
        self.probeInterval = spec.probeInterval
        self.relays = relays
        self.traffic = traffic
    }

    /// Binds every local port, starts (or joins) the informers the target needs, and forwards
    /// until the task is cancelled. With a ``kubeconfigSource`` it follows the kubeconfig: when
    /// the context it resolves to changes (a switch, rotated credentials), new connections use
    /// the new one while open connections keep their streams and the ports stay bound.
    /// `pod/NAME` targets run as a ``PodForward``.
    /// - Throws: ``ForwardError`` when a port cannot be bound or the target cannot be resolved.
    public func run(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, events: @escaping @Sendable (ForwardEvent) -> Void) async throws(ForwardError) {
        if self.udp || self.target.needsRelay {
            guard let relays = self.relays else {
                throw ForwardError("\(self.udp ? "UDP" : "a forward to \(self.target)") goes through kfwd's relay, which this runner does not deploy")
            }
            try await self.runRelay(relays, group: group, events: events)
            return
        }
        if case .pod(let name) = self.target {
            try await self.runPod(name, group: group, events: events)
            return
        }
        // Every connection of the forward on one event loop, where its sessions to the pods live
        // too: the loop of every forward to the same target, which share the sessions.
        let loop = SessionLoop.loop(for: "\(self.namespace(in: self.context))/\(self.target)", in: group)
        let route = CurrentRoute()
        let chooser = PodChooser()
        // Each connection's pod is chosen as it is accepted, on its event loop, and its streams
        // joined to it when a session to that pod is up: no task stands between the accept and
        // the pod, or runs for it at all unless the pod refuses.
        let listeners = try await ListenerSet.bind(
            self.mappings, addresses: self.addresses, group: loop, traffic: self.traffic,
            accepted: { local, connections in self.start(local, connections: connections, route: route, chooser: chooser) }
        )
        listeners.announce(events)
        let follower = self.kubeconfigSource.map { ContextFollower(source: $0, initial: self.context) }
        let failure = await withTaskGroup(of: ForwardError?.self) { tasks in
            tasks.addTask {
                await listeners.serve(events: events) { local, mapping, machine in
                    await self.serve(local, mapping: mapping, route: route, chooser: chooser, machine: machine, events: events)
                }
                return nil
            }
            tasks.addTask {
                do throws(ForwardError) {
                    try await self.followContexts(
                        route: route, follower: follower, chooser: chooser, loop: loop,
                        mappings: listeners.listeners.map(\.mapping), events: events
                    )
                    return nil
                } catch {
                    return error
                }
            }
            if let follower { tasks.addTask { await follower.run(events: events); return nil } }
            var failure: ForwardError?
            for await result in tasks {
                if let result {
                    failure = failure ?? result
                    tasks.cancelAll()
                }
            }
            return failure
        }
        if let failure { throw failure }
    }

    /// kubectl's meaning of `pod/NAME`: forward to that pod while it exists; when it is deleted
    /// (the shared pod informer sees it go), stop with an error that says so. With a
    /// ``kubeconfigSource`` it follows the kubeconfig as the other targets do: new connections
    /// go to the pod of that name in the new context (and its namespace), the ports staying bound.
    private func runPod(_ name: String, group: any EventLoopGroup, events: @escaping @Sendable (ForwardEvent) -> Void) async throws(ForwardError) {
        let client: KubeClient
        do { client = try self.cache.client(for: self.context) } catch { throw ForwardError(error) }
        if let degraded = try await self.followPlan(context: self.context, namespace: self.namespace).degraded { events(.following(degraded)) }
        var podForward = PodForward(
            client: client, transport: self.transport.transport(client: client, events: events), namespace: self.namespace, pod: name,
            mappings: self.mappings, addresses: self.addresses
        )
        podForward.traffic = self.traffic
        let forward = podForward
        let follower = self.kubeconfigSource.map { ContextFollower(source: $0, initial: self.context) }
        let failure: ForwardError? = await withTaskGroup(of: ForwardError?.self) { tasks in
            tasks.addTask {
                do throws(ForwardError) {
                    try await forward.run(group: group, events: events)
                    return nil
                } catch {
                    return error
                }
            }
            tasks.addTask { await self.watchPod(name, forward: forward, follower: follower, events: events) }
            if let follower { tasks.addTask { await follower.run(events: events); return nil } }
            let first = await tasks.next() ?? nil
            tasks.cancelAll()
            return first
        }
        if let failure { throw failure }
    }

    /// Keeps ``CurrentRoute`` on the informers and transport of the current context, until
    /// cancelled: the first context's route once its informers have synced, then each new
    /// context's once the follower reports it.
    private func followContexts(
        route: CurrentRoute, follower: ContextFollower?, chooser: PodChooser, loop: any EventLoop, mappings: [PortMapping],
        events: @escaping @Sendable (ForwardEvent) -> Void
    ) async throws(ForwardError) {
        var next = follower?.current ?? self.context
        while !Task.isCancelled {
            let context = next
            var switched: KubeContext?
            let namespace = self.namespace(in: context)
            let client: KubeClient
            do { client = try self.cache.client(for: context) } catch { throw ForwardError(error) }
            let transport = self.transport.transport(client: client, events: events)
            // Open connections keep their sessions; the transport closes each when its last
            // stream ends.
            defer { transport.shutdown() }
            do {
                try await self.withPicker(context: context, namespace: namespace, route: route, events: events) { picker in
                    try await self.withProber(client: client, namespace: namespace, picker: picker, transport: transport, loop: loop, events: events) { health in
                        let warm = self.warmStreams ? WarmStreams(loops: [loop], ports: mappings.map(\.remote)) : nil
                        let checked: any PodPicker = health.map { HealthyPodPicker(base: picker, health: $0) } ?? picker
                        route.set(Route(context: context, namespace: namespace, picker: CachedPodPicker(checked), transport: transport, warm: warm))
                        if context != self.context {
                            events(Self.followed(context, namespace: namespace))
                        }
                        switched = await withTaskGroup(of: KubeContext?.self) { group in
                            group.addTask {
                                await Self.reportPods(picker, mappings: mappings, events: events)
                                return nil
                            }
                            if transport.multiplexes {
                                group.addTask {
                                    await Self.keepSessions(picker: picker, transport: transport, namespace: namespace, ports: mappings.map(\.remote), loop: loop)
                                    return nil
                                }
                            }
                            if let warm {
                                group.addTask {
                                    await warm.fill(picker: picker, transport: transport, namespace: namespace, chooser: chooser, sticky: self.sticky || picker.sticky)
                                    return nil
                                }
                            }
                            if let follower { group.addTask { await self.nextUsableContext(after: context, follower: follower, events: events) } }
                            let first = await group.next() ?? nil
                            group.cancelAll()
                            return first
                        }
                    }
                }
            } catch let error as ForwardError {
                throw error
            } catch {
                throw ForwardError("\(error)")
            }
            guard let follower, !Task.isCancelled else { return }
            next = switched ?? follower.current
        }
    }

    /// Runs `body` with the pods' health as the forward's probes find it, through the prober
    /// this cluster's forwards to the same port share (nil when probing is off).
    private func withProber(
        client: KubeClient, namespace: String, picker: any PodPicker, transport: any PortForwardTransport, loop: any EventLoop,
        events: @escaping @Sendable (ForwardEvent) -> Void, _ body: (PodHealth?) async throws -> Void
    ) async throws {
        guard self.probeInterval > .zero, let port = self.mappings.first?.remote else { return try await body(nil) }
        let key = HealthProber.Key(client: ObjectIdentifier(client), namespace: namespace, port: port, probe: self.probe, interval: self.probeInterval)
        try await self.cache.withShared(key, make: { HealthProber(key: key) }, run: { await $0.run() }) { prober in
            let id = prober.subscribe(HealthProber.Subscriber(picker: picker, transport: transport, loop: loop, events: events))
            defer { prober.unsubscribe(id) }
            try await body(prober.health)
        }
    }

    /// Holds the informers of the target for as long as `body` runs, from their first lists on.
    /// They watch the whole namespace, so every forward in it shares one list and one watch per
    /// kind. Until those lists arrive, what stops them (credentials, rights, an unreachable API
    /// server) is told at once, to `events` and to the connections `route` holds.
    func withPicker(
        context: KubeContext, namespace: String, route: CurrentRoute?, events: @escaping @Sendable (ForwardEvent) -> Void,
        _ body: (any PodPicker) async throws -> Void
    ) async throws {
        let synced = { (informers: [any InformerHealth]) in await Self.waitForSync(informers, route: route, events: events) }
        let plan = try await self.followPlan(context: context, namespace: namespace)
        if let degraded = plan.degraded { events(.following(degraded)) }
        switch (self.target, plan.source) {
        case (.service(let name), .serviceEndpoints(let servicesMode, let slicesMode)):
            try await self.withInformers(Service.self, servicesMode, EndpointSlice.self, slicesMode, context: context, namespace: namespace) { services, slices in
                await synced([services, slices])
                try await body(ServiceEndpoints(name: name, namespace: namespace, services: services, slices: slices))
            }
        case (.service(let name), .servicePods(let servicesMode, let podsMode)):
            try await self.withInformers(Service.self, servicesMode, Pod.self, podsMode, context: context, namespace: namespace) { services, pods in
                await synced([services, pods])
                try await body(ServicePods(name: name, namespace: namespace, services: services, pods: pods))
            }
        case (.deployment(let name), .deployment(let deploymentsMode, let podsMode)):
            try await self.withInformers(Deployment.self, deploymentsMode, Pod.self, podsMode, context: context, namespace: namespace) { deployments, pods in
                await synced([deployments, pods])
                try await body(SelectedPods(namespace: namespace, selection: .deployment(name: name, deployments), pods: pods))
            }
        case (.selector(let text), .pods(let mode)):
            let selector = try ForwardTarget.labelSelector(text)
            try await self.cache.withInformer(Pod.self, context: context, namespace: namespace, mode: mode) { pods in
                await synced([pods])
                try await body(SelectedPods(namespace: namespace, selection: .labels(selector, description: "pods -l \(text)"), pods: pods))
            }
        case (.pod(let name), .pods(let mode)):
            // Only UDP to one pod comes here (TCP runs as a PodForward, kubectl's meaning).
            try await self.cache.withInformer(Pod.self, context: context, namespace: namespace, mode: mode) { pods in
                await synced([pods])
                try await body(SelectedPods(namespace: namespace, selection: .named(name), pods: pods))
            }
        default:
            preconditionFailure("address targets run as a RelayForward; \(plan.source) is not a plan for \(self.target)")
        }
    }

    /// What the user's rights allow for following the target in `namespace` (``FollowPlan``).
    func followPlan(context: KubeContext, namespace: String) async throws(ForwardError) -> FollowPlan {
        let checks = FollowPlan.checks(for: self.target, namespace: namespace)
        return try FollowPlan.make(for: self.target, namespace: namespace, allowed: await self.cache.allowed(checks, context: context))
    }

    private func withInformers<A: KubeResource, B: KubeResource>(
        _ first: A.Type, _ firstMode: ReflectorMode, _ second: B.Type, _ secondMode: ReflectorMode, context: KubeContext, namespace: String,
        _ body: (Informer<A>, Informer<B>) async throws -> Void
    ) async throws {
        try await self.cache.withInformer(A.self, context: context, namespace: namespace, mode: firstMode) { a in
            try await self.cache.withInformer(B.self, context: context, namespace: namespace, mode: secondMode) { b in
                try await body(a, b)
            }
        }
    }

    /// Returns once every informer has its first list (or the task is cancelled), saying each
    /// change of what keeps them from it as it happens.
    private static func waitForSync(_ informers: [any InformerHealth], route: CurrentRoute?, events: @Sendable (ForwardEvent) -> Void) async {
        var reported: ForwardError?
        let synced: Void? = await StoreChanges.rerun(on: informers) {
            guard !informers.allSatisfy(\.hasSynced) else { return () }
            let error = informers.lazy.compactMap(\.lastError).first.map(ForwardError.init)
            if error != reported {
                reported = error
                route?.block(error)
                events(.api(error: error))
            }
            return nil
        }
        // Cancelled before the lists came: nothing recovered.
        if synced != nil, reported != nil {
            route?.block(nil)
            events(.api(error: nil))
        }
    }

    /// Tells the user (and the supervisor's status) which pods new connections go to, and
    /// whether the API server is reachable, each time that changes, until cancelled.
    private static func reportPods(_ picker: any PodPicker, mappings: [PortMapping], events: @Sendable (ForwardEvent) -> Void) async {
        var reported: [String]?
        var reportedError: ForwardError?
        let _: Void? = await StoreChanges.rerun(on: picker.informers) {
            let apiError = picker.apiError.map(ForwardError.init)
            if apiError != reportedError {
                events(.api(error: apiError))
                reportedError = apiError
            }
            let pods = Set(mappings.flatMap { picker.candidates(remotePort: $0.remote).map(\.pod) }).sorted()
            if pods != reported {
                if pods.isEmpty {
                    for mapping in mappings { events(.waiting(local: mapping.local, reason: picker.emptyReason(remotePort: mapping.remote))) }
                }
                events(.ready(pods: pods))
                reported = pods
            }
            return nil
        }
    }

    /// Keeps a session open to every pod new connections may go to (a multiplexing transport),
    /// so that the first connection to a pod costs two frames rather than a TLS handshake and an
    /// upgrade: dialed again with backoff when one closes (found dead by its pings, cut with
    /// the API server), let go when its pod leaves the set. A session opens no stream, so the
    /// pods' runtimes dial nothing. Until cancelled.
    private static func keepSessions(picker: any PodPicker, transport: any PortForwardTransport, namespace: String, ports: [RemotePort], loop: any EventLoop) async {
        var backoff = Backoff(initial: .milliseconds(200), cap: .seconds(10))
        let _: Void? = await StoreChanges.rerun(on: picker.informers + [transport.sessionsClosed].compactMap { $0 }) {
            // Until every pod has its session: a dial that fails (API unreachable, pod not yet
            // serving) is tried again with backoff, the pods read afresh each time.
            while !Task.isCancelled {
                let pods = Set(ports.flatMap { picker.candidates(remotePort: $0).map(\.pod) })
                transport.retainSessions(namespace: namespace, pods: pods)
                var failed = false
                for pod in pods.sorted() where !Task.isCancelled {
                    do { try await transport.prepare(namespace: namespace, pod: pod, on: loop) } catch { failed = true }
                }
                guard failed else { return nil }
                try? await Task.sleep(for: backoff.next())
            }
            return nil
        }
    }
}
