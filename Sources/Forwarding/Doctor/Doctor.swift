import Foundation
import KubeClient
import NIOCore
import NIOPosix
import Synchronization

/// `kfwd doctor`: what one forward needs, checked in the order it depends on it, each with what
/// was found and, when it fails, the fix: the kubeconfig and context; the credentials (with
/// their end of validity); the API server and its version; the namespace; the rights and the
/// way they let the forward follow its pods; the target's ready pods; the port-forward
/// transports the server accepts; the local ports; for relay forwards, the relay pod's rights.
/// Runs against the cluster as the forward would, needing the cache's ``KubeClientCache/run()``.
public struct Doctor: Sendable {
    let spec: ForwardSpec
    let cache: KubeClientCache
    /// How a relay forward's relay would be deployed: the doctor deploys one to see it start.
    let relaySettings: RelaySettings

    public init(spec: ForwardSpec, cache: KubeClientCache, relaySettings: RelaySettings) {
        self.spec = spec
        self.cache = cache
        self.relaySettings = relaySettings
    }

    private typealias Check = DoctorReport.Check

    /// The checks that need the cluster, in order: after a failure the rest are skipped.
    private var clusterChecks: [String] {
        ["kubeconfig", "credentials", "api", "namespace", "permissions", "target", "transport"] + (self.needsRelay ? ["relay"] : [])
    }

    private var needsRelay: Bool { self.spec.udp || self.spec.target.needsRelay }

    public func run() async -> DoctorReport {
        var report = DoctorReport(forward: self.spec.alias, target: self.spec.target.description)
        await self.checkCluster(&report)
        if let failed = report.checks.first(where: { $0.status == .fail }) {
            for name in self.clusterChecks.dropFirst(report.checks.count) {
                report.checks.append(Check(name, .skip, "not checked: \(failed.check) failed"))
            }
        }
        report.checks.append(await self.localPorts())
        return report
    }

    /// Appends the cluster's checks until one fails.
    private func checkCluster(_ report: inout DoctorReport) async {
        let context: KubeContext
        do {
            context = try self.spec.kubeconfigSource.resolve()
        } catch {
            return report.checks.append(Check("kubeconfig", .fail, error.message, fix: error.fix ?? "check the kubeconfig with `kubectl config view`"))
        }
        let namespace = self.spec.namespace ?? context.namespace
        report.checks.append(Check("kubeconfig", .pass, "context '\(context.name)': cluster \(context.server), user \(context.userName), namespace \(namespace)"))

        let client: KubeClient
        let credentials: CredentialSummary
        do {
            client = try self.cache.client(for: context)
            credentials = try await client.credentialSummary()
        } catch {
            return report.checks.append(Check("credentials", .fail, error.message, fix: Self.credentialsFix(context)))
        }
        if let expires = credentials.expires, expires <= Date() {
            return report.checks.append(Check(
                "credentials", .fail, "\(credentials.kind), expired at \(Self.time(expires))", fix: Self.credentialsFix(context)
            ))
        }
        let validity = credentials.expires.map { ", valid until \(Self.time($0)) (\(Self.remaining($0)))" } ?? ""
        report.checks.append(Check("credentials", .pass, credentials.kind + validity))

        do {
            let version = try await client.serverVersion()
            report.checks.append(Check("api", .pass, "\(context.server) answers: Kubernetes \(version)"))
        } catch {
            let refused = error.isUnauthorized
            return report.checks.append(Check(
                "api", .fail, refused ? "\(context.server) refuses the credentials: \(error.message)" : error.message,
                fix: refused ? Self.credentialsFix(context) : "check the network or VPN to \(context.server); kfwd retries by itself once it answers"
            ))
        }

        do {
            _ = try await client.get(Namespace.self, namespace)
            report.checks.append(Check("namespace", .pass, "\(namespace) exists"))
        } catch {
            if error.isNotFound {
                return report.checks.append(Check("namespace", .fail, "namespace \(namespace) does not exist", fix: "check -n and the context's namespace"))
            }
            // kubectl's rights for a port-forward do not include reading namespaces.
            report.checks.append(Check("namespace", .warn, "\(namespace): cannot tell whether it exists: \(Self.short(error.message))"))
        }

        let forward = ResilientForward(spec: self.spec, context: context, cache: self.cache, relays: nil, traffic: nil)
        let plan: FollowPlan
        do {
            plan = try await forward.followPlan(context: context, namespace: namespace)
        } catch {
            return report.checks.append(Check("permissions", .fail, error.message, fix: error.fix))
        }
        let polling = plan.source.modes.contains { $0 != .watch }
        report.mode = polling ? "poll" : "watch"
        report.checks.append(polling ? Check("permissions", .warn, plan.degraded ?? "polling") : Check("permissions", .pass, "may watch what \(self.spec.target) needs in \(namespace)"))

        guard !self.spec.target.needsRelay else {
            report.checks.append(Check("target", .pass, "\(self.spec.target) is reached through kfwd's relay: the cluster resolves it"))
            report.checks.append(Check("transport", .skip, "the relay's pod is reached when the forward starts"))
            return report.checks.append(await self.relay(context: context, namespace: namespace))
        }
        let target = await self.target(forward, context: context, namespace: namespace)
        report.checks.append(target.check)
        guard let choice = target.choice else { return }

        if self.spec.udp {
            report.checks.append(Check("transport", .skip, "UDP goes through the relay's pod"))
        } else {
            let (check, negotiated) = await self.transports(client: client, namespace: namespace, choice: choice)
            report.transport = negotiated
            report.checks.append(check)
            if check.status == .fail { return }
        }
        if self.needsRelay { report.checks.append(await self.relay(context: context, namespace: namespace)) }
    }

    /// The target's ready pods for each port, as the forward would pick them.
    private func target(_ forward: ResilientForward, context: KubeContext, namespace: String) async -> (check: Check, choice: PodChoice?) {
        let found = Mutex<[(mapping: PortMapping, candidates: [PodChoice], reason: ForwardError)]?>(nil)
        let mappings = self.spec.mappings
        let synced = await Self.within(.seconds(15)) {
            try await forward.withPicker(context: context, namespace: namespace, route: nil, events: { _ in }) { picker in
                found.withLock { $0 = mappings.map { ($0, picker.candidates(remotePort: $0.remote), picker.emptyReason(remotePort: $0.remote)) } }
            }
        }
        guard synced, let found = found.withLock({ $0 }) else {
            return (Check("target", .fail, "the pods of \(self.spec.target) could not be read within 15 s", fix: "try again; `kfwd forward` says more as it waits"), nil)
        }
        if let empty = found.first(where: { $0.candidates.isEmpty }) {
            return (Check("target", .fail, "port \(empty.mapping.remote): \(empty.reason.message)", fix: empty.reason.fix), nil)
        }
        let pods = Set(found.flatMap { $0.candidates.map(\.pod) }).sorted()
        let ports = found.map { "\($0.mapping.remote) -> \(Set($0.candidates.map(\.port)).sorted().map(String.init).joined(separator: ", "))" }
        return (Check("target", .pass, "ready: \(pods.joined(separator: ", ")) (port \(ports.joined(separator: "; ")))"), found.first?.candidates.first)
    }

    /// Opens a stream to `choice` with each transport, as `auto` would try them.
    private func transports(client: KubeClient, namespace: String, choice: PodChoice) async -> (Check, String?) {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        var results: [(kind: PortForwardTransportKind, error: String?)] = []
        for kind in [PortForwardTransportKind.tunnel, .spdy, .websocket] {
            let transport = kind.transport(client: client)
            let outcome = Mutex<String?>("no answer within 10 s")
            _ = await Self.within(.seconds(10)) {
                do throws(PortForwardError) {
                    let stream = try await transport.open(namespace: namespace, pod: choice.pod, port: choice.port, on: loop)
                    stream.close()
                    outcome.withLock { $0 = nil }
                } catch {
                    outcome.withLock { $0 = Self.short(error.message) }
                }
            }
            transport.shutdown()
            results.append((kind, outcome.withLock { $0 }))
        }
        let accepted = results.filter { $0.error == nil }.map(\.kind)
        let detail = results.map { "\($0.kind.rawValue) \($0.error.map { "refused (\($0))" } ?? "accepted")" }.joined(separator: "; ")
        let wanted = self.spec.transport
        if wanted != .auto {
            guard accepted.contains(wanted) else {
                return (Check("transport", .fail, "\(wanted.rawValue) is forced and refused: \(detail)", fix: "use --transport auto, or one the server accepts"), nil)
            }
            return (Check("transport", .pass, "\(wanted.rawValue) (forced) to \(choice.pod):\(choice.port): \(detail)"), wanted.rawValue)
        }
        guard let first = accepted.first else {
            return (Check("transport", .fail, "no port-forward transport reaches \(choice.pod):\(choice.port): \(detail)", fix: "check pods/portforward rights and the pod's port"), nil)
        }
        return (Check("transport", .pass, "auto uses \(first.rawValue) to \(choice.pod):\(choice.port): \(detail)"), first.rawValue)
    }

    /// A relay forward's pod: kfwd must be allowed to create and delete it, and its image must
    /// start and answer: one is deployed, claimed and deleted, as a forward would.
    private func relay(context: KubeContext, namespace: String) async -> Check {
        if let refusal = await RelayPods.rightsRefusal(cache: self.cache, context: context, namespace: namespace) {
            return Check("relay", .fail, refusal.message, fix: refusal.fix)
        }
        let relays = RelayPods(cache: self.cache, settings: self.relaySettings)
        let image = self.relaySettings.image
        let started = ContinuousClock.now
        let outcome: Result<String, ForwardError> = await withTaskGroup(of: Result<String, ForwardError>?.self) { group in
            group.addTask {
                await relays.run()
                return nil
            }
            let lease = await relays.lease([], context: context, namespace: namespace, events: { _ in })
            let result: Result<String, ForwardError>
            do throws(ForwardError) {
                let endpoint = try await relays.endpoint(for: lease)
                await relays.finished(lease, pod: endpoint.pod)
                result = .success(endpoint.pod)
            } catch {
                result = .failure(error)
            }
            await relays.release(lease)
            await relays.shutdown()
            group.cancelAll()
            return result
        }
        switch outcome {
        case .success(let pod):
            let seconds = (ContinuousClock.now - started).components.seconds
            return Check("relay", .pass, "relay \(pod) from \(image) started and answered within \(max(seconds, 1)) s, then removed")
        case .failure(let error):
            return Check(
                "relay", .fail, error.message,
                fix: error.fix ?? "the cluster must be able to pull and run \(image): build, load or push it (docs/relay.md) and set --relay-image or kfwd settings set relay_image"
            )
        }
    }

    /// Whether each local port can be bound now.
    private func localPorts() async -> Check {
        let fixed = self.spec.mappings.filter { $0.local != 0 }
        guard !fixed.isEmpty else { return Check("local_port", .pass, "free ports are picked when the forward starts") }
        let group = MultiThreadedEventLoopGroup.singleton
        do throws(ForwardError) {
            if self.spec.udp {
                let sockets = try await UDPSockets.bind(fixed, addresses: self.spec.addresses, on: group.next(), traffic: nil) { _ in NIOCloseOnErrorHandler() }
                await sockets.close()
            } else {
                for mapping in fixed {
                    let listener = try await LocalListener.probe(mapping, addresses: self.spec.addresses, group: group)
                    await listener.close()
                }
            }
        } catch {
            return Check("local_port", .fail, error.message, fix: error.fix)
        }
        let ports = fixed.map { String($0.local) }.joined(separator: ", ")
        return Check("local_port", .pass, "\(self.spec.udp ? "UDP " : "")\(fixed.count == 1 ? "port" : "ports") \(ports) free")
    }

    /// A refusal as the right it lacks (`get on pods/portforward is not allowed`), else the
    /// message as it is.
    private static func short(_ message: String) -> String {
        AccessCheck(refusal: message).map { "\($0.verb) on \($0.resourceName) is not allowed" } ?? message
    }

    private static func credentialsFix(_ context: KubeContext) -> String {
        if let exec = context.user.exec { return "run the credential plugin by hand (`\(exec.command)`) and log in again" }
        return "get new credentials for user '\(context.userName)' (log in again, or `kubectl create token` for a ServiceAccount)"
    }

    private static func time(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    private static func remaining(_ date: Date) -> String {
        let minutes = Int(date.timeIntervalSinceNow / 60)
        return minutes >= 120 ? "in \(minutes / 60) h" : "in \(minutes) min"
    }

    /// Runs `body` for at most `limit`; whether it finished.
    private static func within(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await body()) != nil }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
