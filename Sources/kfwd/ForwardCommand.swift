import ArgumentParser
import Forwarding
import Foundation
import KubeClient
import Logging
import UnixSignals

struct ForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Forward local ports to a pod, a service, a deployment or pods by label, and keep forwarding.",
        discussion: """
            PORTS are [LOCAL:]REMOTE: 8080:80 forwards local 8080 to port 80, 80 uses the same port on both \
            sides, :80 (or 0:80) picks a free local port. For svc/NAME the remote port is the service's port \
            (its targetPort, even a named one, is resolved per pod); otherwise it is the container port. \
            Every local port is bound before anything is dialed. svc/, deploy/ and -l follow the pods: each \
            new connection goes to a ready pod (in turn, or one pod while it stays ready with --sticky or a \
            Service's sessionAffinity: ClientIP), moves on when a pod goes away, and waits up to --pod-wait \
            seconds while none is ready. pod/NAME keeps kubectl's meaning. --udp, host/NAME and ip/ADDRESS go \
            through a relay pod kfwd deploys in the namespace (labelled app.kubernetes.io/managed-by=kfwd) and \
            deletes when it stops. Stops on Ctrl-C or SIGTERM.
            """
    )

    @Argument(help: "pod/NAME (or NAME), svc/NAME, deploy/NAME, or host/NAME or ip/ADDRESS (any address the cluster reaches, through kfwd's relay); omit it with -l.")
    var target: String?

    @Argument(help: "[LOCAL:]REMOTE port pairs; REMOTE may be a port's name (8080:http), :REMOTE takes a free local port.")
    var ports: [String] = []

    @Option(name: [.customShort("l"), .long], help: "Forward to pods matching this label selector.")
    var selector: String?

    @Option(name: .customLong("pod-wait"), help: "Seconds a new connection waits for a ready pod.")
    var podWait: Double = 30

    @Flag(help: "Send every new connection to one pod while it stays ready (a Service with sessionAffinity: ClientIP does this by itself).")
    var sticky = false

    @Flag(help: "With --transport websocket: keep a stream to a ready pod open ahead, so that a new connection skips the TLS handshake and upgrade (about half the connection time; a request can be lost when it takes a stream just as its pod shuts down). SPDY and the tunnel keep a session per pod instead.")
    var warmStreams = false

    @Flag(help: "Forward UDP, through a kfwd relay pod in the namespace (svc/NAME: to the Service's ClusterIP; host/ and ip/: to that address). Each local peer gets its own flow.")
    var udp = false

    @OptionGroup(title: "Relay (for --udp, host/ and ip/)")
    var relay: RelayOptions

    @Option(help: "Port-forward protocol: auto (the WebSocket tunnel of SPDY, then plain SPDY, then WebSocket v4, as the server allows), tunnel, spdy or websocket.")
    var transport = "auto"

    @Flag(name: .shortAndLong, help: "Report the pod each connection goes to.")
    var verbose = false

    @OptionGroup var cluster: ClusterOptions

    @OptionGroup var network: NetworkOptions

    @OptionGroup(title: "Health")
    var health: ProbeOptions

    @Option(help: "Local addresses to listen on, comma-separated; localhost means 127.0.0.1 and ::1 (where the machine has IPv6); auto, a loopback address of the forward's own (so several forwards can share a port).")
    var address = "localhost"

    func validate() throws {
        let target = try self.resolvedTarget()
        if self.allPorts.isEmpty { throw ValidationError("give at least one port, e.g. `kfwd forward svc/web 8080:80`") }
        do { try target.check(try self.allPorts.map { port throws(ForwardError) in try PortMapping(parsing: port) }) } catch {
            throw ValidationError(error.message)
        }
        do { _ = try ListenAddresses(parsing: self.address, alias: "") } catch { throw ValidationError(error.message) }
        if self.podWait < 0 { throw ValidationError("--pod-wait \(self.podWait) must be 0 or more seconds") }
        do { _ = try PortForwardTransportKind(parsing: self.transport) } catch { throw ValidationError("--transport: \(error.message)") }
    }

    /// With -l the first positional argument is a port, not a target.
    private var allPorts: [String] {
        self.selector != nil ? (self.target.map { [$0] } ?? []) + self.ports : self.ports
    }

    private func resolvedTarget() throws -> ForwardTarget {
        if let selector = self.selector {
            guard !selector.isEmpty else { throw ValidationError("-l needs a selector, e.g. -l app=web") }
            if let target = self.target, target.contains("/") {
                throw ValidationError("'\(target)' and -l \(selector) exclude each other: forward to a target or to the pods -l selects, not both")
            }
            do { return try .selector(validating: selector) } catch { throw ValidationError(error.message) }
        }
        guard let target = self.target else { throw ValidationError("name a target (pod/NAME, svc/NAME, deploy/NAME) or give -l SELECTOR") }
        do { return try ForwardTarget(parsing: target) } catch { throw ValidationError(error.message) }
    }

    /// The forward the arguments describe (checked by ``validate()``).
    func spec() throws -> ForwardSpec {
        let target = try self.resolvedTarget()
        return ForwardSpec(
            alias: target.description, kubeconfig: self.cluster.kubeconfig, context: self.cluster.context, namespace: self.cluster.namespace,
            target: target, mappings: try self.allPorts.map { try PortMapping(parsing: $0) }, addresses: try ListenAddresses(parsing: self.address, alias: target.description),
            podWait: .milliseconds(Int(self.podWait * 1000)), sticky: self.sticky, warmStreams: self.warmStreams,
            transport: try PortForwardTransportKind(parsing: self.transport), udp: self.udp,
            probe: try self.health.probe.map { try ProbeSpec(parsing: $0) } ?? .connect,
            probeInterval: .milliseconds(Int((self.health.probeInterval ?? 10) * 1000))
        )
    }

    func run() async throws {
        Terminal.verbose.withLock { $0 = self.verbose }
        let spec = try self.spec()
        let context: KubeContext
        do {
            context = try spec.kubeconfigSource.resolve()
        } catch {
            Terminal.error(error.message)
            throw ExitCode.failure
        }
        var logger = Logger(label: "kfwd")
        logger.logLevel = .warning
        let cache = KubeClientCache(logger: logger)
        let relays = RelayPods(cache: cache, settings: self.relay.settings, logger: logger)
        let forward = ResilientForward(spec: spec, context: context, cache: cache, relays: relays, traffic: nil)
        if await Self.runUntilSignal(cache: cache, relays: relays, network: self.network.settings(), logger: logger, forward) { throw ExitCode.failure }
    }

    /// Runs forwards and the informer cache (and relays, and the network watch) they share until one fails (its error
    /// printed at once) or SIGINT/SIGTERM; whichever ends it, the stop that follows is watched.
    /// The relays are deleted before the cache's clients shut down.
    /// - Returns: whether a forward failed.
    static func runUntilSignal(
        cache: KubeClientCache, relays: RelayPods? = nil, network: NetworkWatch.Settings, logger: Logger, _ forwards: ResilientForward...,
        events: @escaping @Sendable (ForwardEvent) -> Void = Terminal.report
    ) async -> Bool {
        await withTaskGroup(of: Void.self) { shared in
            shared.addTask { await cache.run() }
            shared.addTask { await NetworkWatch(cache: cache, settings: network, logger: logger).run() }
            if let relays { shared.addTask { await relays.run() } }
            let failed = await Self.runForwards(forwards, events: events)
            await relays?.shutdown()
            shared.cancelAll()
            return failed
        }
    }

    private static func runForwards(_ forwards: [ResilientForward], events: @escaping @Sendable (ForwardEvent) -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            for forward in forwards {
                group.addTask {
                    do throws(ForwardError) {
                        try await forward.run(events: events)
                        return false
                    } catch {
                        Terminal.error(error.message)
                        return true
                    }
                }
            }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
                return false
            }
            var failed = await group.next() ?? false
            ShutdownWatchdog.arm()
            group.cancelAll()
            // A SIGTERM sent on reading a forward's error may end the wait first: every result
            // counts, not only the first.
            for await result in group { failed = failed || result }
            return failed
        }
    }
}
