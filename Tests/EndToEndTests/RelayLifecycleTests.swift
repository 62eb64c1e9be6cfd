import Forwarding
import Foundation
import KubeClient
import KubeSim
import RelayProtocol
import Testing

/// The relay pods' lives: deployed, shared, replaced, lost and deployed again, swept when a kfwd
/// died, and refused with a clear error, in KubeSim running the relay image as the built
/// kfwd-relay (the cluster and helpers of ``RelayForwardTests``).
@Suite(.serialized) struct RelayLifecycleTests {
    /// A query whose flow waits for a relay that is replaced before it is ready (a second forward
    /// in the namespace needs a target the first relay does not allow, and that relay is slow to
    /// start) is answered through the replacement, and neither forward fails.
    @Test(.enabled(if: isInstalled("dig") && dnsmasqPath != nil))
    func aQueryWaitingForARelayReplacedBeforeItIsReadyIsAnsweredThroughTheReplacement() async throws {
        try await RelayForwardTests.run(slowRelays: .first) { harness in
            let supervisor = Supervisor(relaySettings: RelaySettings(image: testRelayImage))
            let updates = supervisor.updates()
            func udp(_ alias: String, _ service: String, _ port: Int) -> ForwardSpec {
                ForwardSpec(alias: alias, kubeconfig: harness.kubeconfigPath, target: .service(service), mappings: [PortMapping(local: 0, remote: port)], udp: true)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await supervisor.run() }
                try supervisor.start(udp("dns", "dns", 1053))
                var port: Int?
                for await status in updates where status.alias == "dns" {
                    if let bound = status.listening.first?.port {
                        port = bound
                        break
                    }
                }
                let dnsPort = try #require(port)
                // Patient: the first relay takes 5 s to start, and the replacement is claimed
                // before it serves; on a loaded 2-core machine that took more than 15 s once.
                async let dig = runCommand("dig", ["@127.0.0.1", "-p", String(dnsPort), "db.shop.test", "+short", "+time=30", "+tries=1"])
                // The query's flow has started, and waits for the first relay.
                for await status in updates where status.alias == "dns" && status.connections >= 1 { break }
                #expect(harness.sim.relayPods().allSatisfy { !isReady($0) })
                try supervisor.start(udp("echo", "echo", 9999))

                let answer = try await dig.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(answer == "10.1.2.3")
                // The replaced relay is deleted; the replacement serves both.
                try await harness.sim.waitUntil { sim in sim.relayPods().count == 1 && sim.relayPods().allSatisfy(isReady) }
                #expect(try await RelayForwardTests.udpPeers(port: #require(supervisor.status("echo")?.listening.first?.port), peers: 1, count: 5, size: 32).received == [5])
                for alias in ["dns", "echo"] {
                    let status = supervisor.status(alias)
                    #expect(status?.state.name == "running" && status?.retries == 0, "\(alias): \(String(describing: status))")
                }
                supervisor.shutdown()
                try await group.waitForAll()
            }
            try await harness.sim.waitUntil { sim in sim.relayPods().isEmpty }
        }
    }

    /// A sweep for relays left by a kfwd that died never takes one this process made, even one
    /// replaced and waiting to be deleted (it carries this process's own pid, and is no longer
    /// among the relays in use).
    @Test func aSweepLeavesTheRelaysThisProcessMade() async throws {
        try await RelayForwardTests.run(slowRelays: .allButFirst) { harness in
            let cache = KubeClientCache()
            let relays = RelayPods(cache: cache, settings: RelaySettings(image: testRelayImage))
            let (messages, sink) = AsyncStream<String>.makeStream()
            let report: @Sendable (ForwardEvent) -> Void = { event in
                if case .relay(let message) = event { sink.yield(message) }
            }
            let context = try harness.context()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await cache.run() }
                group.addTask { await relays.run() }
                let first = await relays.lease([try RelayRule(parsing: "udp/10.96.0.1:53")], context: context, namespace: "default", events: report)
                let used = try await relays.endpoint(for: first)
                await relays.finished(first, pod: used.pod)
                // A target the first relay does not allow: a replacement is deployed, and the
                // first, with no stream, goes once the replacement is ready.
                let second = await relays.lease([try RelayRule(parsing: "udp/10.96.0.2:53")], context: context, namespace: "default", events: report)
                async let replacement = relays.endpoint(for: second)
                try await harness.sim.waitUntil { sim in sim.relayPods().count == 2 }
                await relays.removeStale(context: context, namespace: "default")
                let firstPod = harness.sim.object("pods", name: used.pod)
                #expect(firstPod != nil && firstPod?[path: ["metadata", "deletionTimestamp"]] == nil, "the sweep deleted \(used.pod)")
                #expect(try await replacement.pod != used.pod)
                try await harness.sim.waitUntil { sim in sim.relayPods().count == 1 }
                await relays.shutdown()
                group.cancelAll()
            }
            sink.finish()
            var said: [String] = []
            for await message in messages { said.append(message) }
            #expect(!said.contains { $0.contains("no longer runs") }, "\(said)")
            try await harness.sim.waitUntil { sim in sim.relayPods().isEmpty }
        }
    }

    @Test func aRelayPodForceDeletedMidTrafficIsRedeployedAndTheSamePeerCarriesOn() async throws {
        try await RelayForwardTests.run { harness in
            let (names, lines, _) = try await runKfwd(RelayForwardTests.forwardArguments(harness, "svc/echo", ":9999")) { lines in
                let port = try await forwardedPort(lines)
                let (value, _, _) = try await runLongLived(.name("python3"), ["-c", RelayForwardTests.steadyClient, String(port)]) { replies in
                    guard await replies.first(where: { $0 == "reply 5" }) != nil,
                        let ready = await lines.first(where: { $0.hasPrefix("Relay: relay ") && $0.hasSuffix(" ready") })
                    else { throw KubeSimTestError("no traffic through the first relay: \(lines.all)") }
                    let first = String(ready.dropFirst("Relay: relay ".count).dropLast(" ready".count))
                    try harness.sim.delete("pods", name: first, gracePeriod: 0)
                    let seenAtDeletion = replies.all.count
                    guard await lines.first(where: { $0.contains("relay \(first) lost") && $0.contains("redeploying") }) != nil,
                        let second = await lines.nth(2, where: { $0.hasPrefix("Relay: relay ") && $0.hasSuffix(" ready") })
                    else { throw KubeSimTestError("the relay was not redeployed: \(lines.all)") }
                    // The same local socket gets answers again, with nothing done by the user.
                    guard await replies.first(where: { line in Int(line.dropFirst("reply ".count)).map { $0 > seenAtDeletion + 5 } ?? false }) != nil
                    else { throw KubeSimTestError("traffic did not resume: \(replies.all.suffix(3)), \(lines.all)") }
                    return (first, String(second.dropFirst("Relay: relay ".count).dropLast(" ready".count)))
                }
                return value
            }
            #expect(names.0 != names.1, "\(lines)")
            try await harness.sim.waitUntil { sim in sim.relayPods().isEmpty }
        }
    }

    @Test func afterKfwdIsKilledTheNextStartRemovesTheRelayItLeft() async throws {
        try await RelayForwardTests.run { harness in
            let (stale, _, status) = try await runKfwd(RelayForwardTests.forwardArguments(harness, "svc/echo", ":9999")) { lines in
                guard await lines.first(where: { $0.hasPrefix("Relay: relay ") && $0.hasSuffix(" ready") }) != nil,
                    let pod = harness.sim.relayPods().first,
                    let name = pod[path: ["metadata", "name"]]?.stringValue,
                    let pid = pod[path: ["metadata", "annotations", "kfwd.dev/pid"]]?.stringValue.flatMap({ Int32($0) })
                else { throw KubeSimTestError("no relay: \(lines.all)") }
                // kill -9: no chance to clean up.
                kill(pid, SIGKILL)
                await lines.untilEnd()
                return name
            }
            #expect(status == .signaled(SIGKILL))
            #expect(harness.sim.relayPods().compactMap { $0[path: ["metadata", "name"]]?.stringValue } == [stale])
            let (_, lines, _) = try await runKfwd(RelayForwardTests.forwardArguments(harness, "svc/echo", ":9999")) { lines in
                _ = await lines.first(where: { $0.hasPrefix("Relay: relay ") && $0.hasSuffix(" ready") })
                try await harness.sim.waitUntil { sim in !sim.relayPods().contains { $0[path: ["metadata", "name"]]?.stringValue == stale } }
            }
            #expect(lines.contains { $0.contains("removing relay \(stale)") && $0.contains("no longer runs") }, "\(lines)")
        }
    }

    /// Two UDP forwards of one kftray file in one namespace: both served, by one relay in the
    /// end (a relay started for the first target is replaced by one that allows both, and goes
    /// once its streams end), which is hardened as the issue asks.
    @Test(.enabled(if: isInstalled("dig") && dnsmasqPath != nil))
    func forwardsInOneNamespaceShareOneHardenedRelay() async throws {
        try await RelayForwardTests.run { harness in
            let entries: [[String: Any]] = [
                ["alias": "dns", "workload_type": "service", "service": "dns", "namespace": "default", "protocol": "udp", "remote_port": 1053, "local_port": 0, "kubeconfig": harness.kubeconfigPath],
                ["alias": "echo", "workload_type": "service", "service": "echo", "namespace": "default", "protocol": "udp", "remote_port": 9999, "local_port": 0, "kubeconfig": harness.kubeconfigPath],
            ]
            let file = try harness.write("kftray.json", String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self))
            let (outcome, lines, _) = try await runKfwd(["up", "--config", file, "--relay-image", testRelayImage, "--relay-cpu", "200m", "--relay-memory", "32Mi"]) { lines in
                func port(_ alias: String) async throws -> Int {
                    let prefix = "\(alias): Forwarding from 127.0.0.1:"
                    guard let line = await lines.first(where: { $0.hasPrefix(prefix) }), let port = Int(line.dropFirst(prefix.count).prefix { $0.isNumber })
                    else { throw KubeSimTestError("no forward \(alias): \(lines.all)") }
                    return port
                }
                // Asked at once: the query may wait for a relay that is replaced before it is
                // ready (each forward leases its targets as it starts).
                let dig = try await runCommand("dig", ["@127.0.0.1", "-p", String(try await port("dns")), "db.shop.test", "+short", "+time=15", "+tries=1"])
                let echo = try await RelayForwardTests.udpPeers(port: try await port("echo"), peers: 1, count: 10, size: 32)
                try await harness.sim.waitUntil { sim in sim.relayPods().count == 1 && isReady(sim.relayPods().first) }
                let pod = harness.sim.relayPods()[0]
                let policy = harness.sim.object("networkpolicies", name: pod[path: ["metadata", "name"]]?.stringValue ?? "?")
                return (dig.stdout.trimmingCharacters(in: .whitespacesAndNewlines), echo.received, pod, policy)
            }
            #expect(outcome.0 == "10.1.2.3", "\(lines)")
            #expect(outcome.1 == [10])
            let pod = outcome.2
            let container = pod[path: ["spec", "containers"]]?.arrayValue?.first
            let env = Dictionary(uniqueKeysWithValues: (container?["env"]?.arrayValue ?? []).compactMap { variable in
                variable["name"]?.stringValue.map { ($0, variable["value"]?.stringValue ?? "") }
            })
            let dnsIP = harness.sim.object("services", name: "dns")?[path: ["spec", "clusterIP"]]?.stringValue ?? "?"
            let echoIP = harness.sim.object("services", name: "echo")?[path: ["spec", "clusterIP"]]?.stringValue ?? "?"
            #expect(env["KFWD_RELAY_TARGETS"] == ["udp/\(dnsIP):1053", "udp/\(echoIP):9999"].sorted().joined(separator: ","))
            // Nothing a reader of pods sees lets them use the relay, and nothing but port-forward
            // reaches it.
            #expect(env["KFWD_RELAY_SECRET"] == nil)
            #expect(!env.values.contains { $0.count >= RelayClaim.shortestSecret && $0.allSatisfy(\.isHexDigit) }, "\(env)")
            #expect(env["KFWD_RELAY_LISTEN"] == "127.0.0.1:9527")
            #expect(container?[path: ["readinessProbe", "exec", "command"]] == .array(["/kfwd-relay", "--check"]))
            #expect(container?[path: ["readinessProbe", "tcpSocket"]] == nil)
            let name = pod[path: ["metadata", "name"]]?.stringValue ?? "?"
            let policy = outcome.3
            #expect(policy?[path: ["spec", "podSelector", "matchLabels", "kfwd.dev/relay"]]?.stringValue == name)
            #expect(pod[path: ["metadata", "labels", "kfwd.dev/relay"]]?.stringValue == name)
            #expect(policy?[path: ["spec", "policyTypes"]] == .array(["Ingress"]))
            #expect(policy?[path: ["spec", "ingress"]] == nil, "no ingress rule: all ingress denied")
            #expect(policy?[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["uid"] == pod[path: ["metadata", "uid"]])
            #expect(pod[path: ["spec", "automountServiceAccountToken"]] == false)
            #expect(pod[path: ["spec", "restartPolicy"]]?.stringValue == "Never")
            #expect(pod[path: ["spec", "securityContext", "runAsNonRoot"]] == true)
            #expect(container?[path: ["securityContext", "readOnlyRootFilesystem"]] == true)
            #expect(container?[path: ["securityContext", "allowPrivilegeEscalation"]] == false)
            #expect(container?[path: ["resources", "limits", "cpu"]]?.stringValue == "200m")
            #expect(container?[path: ["resources", "limits", "memory"]]?.stringValue == "32Mi")
            #expect(pod[path: ["metadata", "labels", "app.kubernetes.io/managed-by"]]?.stringValue == "kfwd")
            #expect(pod[path: ["metadata", "labels", "kfwd.dev/owner"]]?.stringValue?.isEmpty == false)
            try await harness.sim.waitUntil { sim in sim.relayPods().isEmpty && sim.object("networkpolicies", name: name) == nil }
        }
    }

    /// Bad input fails the forward with a message that names the thing and the fix, and leaves
    /// nothing behind in the cluster.
    @Test func aRelayThatCannotStartOrAPortTheServiceLacksFailsTheForwardClearly() async throws {
        try await RelayForwardTests.run { harness in
            let image = try await runKfwd(
                ["forward", "svc/echo", "--udp", ":9999", "--kubeconfig", harness.kubeconfigPath, "--relay-image", "example.com/no-such-relay:1"]
            ) { lines in await lines.untilEnd() }
            #expect(image.status == .exited(1))
            #expect(image.lines.contains { $0.hasPrefix("error: relay pod kfwd-relay-") && $0.contains("ErrImagePull") && $0.contains("example.com/no-such-relay:1") }, "\(image.lines)")
            try await harness.sim.waitUntil { sim in sim.relayPods().isEmpty }

            let port = try await runKfwd(RelayForwardTests.forwardArguments(harness, "svc/echo", "9000")) { lines in await lines.untilEnd() }
            #expect(port.status == .exited(1))
            #expect(port.lines.contains("error: service echo has no UDP port 9000 (its ports: 9999/UDP named udp)"), "\(port.lines)")
            #expect(harness.sim.relayPods().isEmpty)

            let memory = try await runKfwd(RelayForwardTests.forwardArguments(harness, "svc/echo", "9999") + ["--relay-memory", "lots"]) { lines in await lines.untilEnd() }
            #expect(memory.status != .exited(0))
            #expect(memory.lines.contains { $0.contains("--relay-memory 'lots' is not a Kubernetes quantity") }, "\(memory.lines)")
        }
    }
}
