import Foundation
import KubeSim
import NIOCore
import NIOPosix
import Testing

/// `kfwd up` with a kftray config file: many independent forwards in one process, sharing
/// one watch per kind.
@Suite(.serialized) struct UpCommandTests {
    private let shop = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        \(webManifest(in: "shop"))
        ---
        \(shopEchoManifest)
        """

    /// One kftray entry; every entry names the test's kubeconfig, as kftray files may.
    private func entry(_ alias: String, _ fields: [String: Any], kubeconfig: String) -> [String: Any] {
        ["alias": alias, "namespace": "shop", "protocol": "tcp", "local_port": 0, "kubeconfig": kubeconfig].merging(fields) { $1 }
    }

    @Test func tenForwardsFromAKftrayFileTwoBadOnesSayWhyAndRecover() async throws {
        try await SimHarness.run(manifest: self.shop) { harness in
            try await harness.sim.waitUntil { sim in
                ((try? sim.objects("pods", namespace: "shop")) ?? []).filter(isReady).count == 3
            }
            let blocker = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
            let busyPort = blocker.localAddress!.port!
            let kubeconfig = harness.kubeconfigPath
            let contextName = try harness.context().name
            let entries: [[String: Any]] = [
                self.entry("web", ["workload_type": "service", "service": "web", "remote_port": 80], kubeconfig: kubeconfig),
                // kftray's own meaning of remote_port for a service: the pods' target port.
                self.entry("web-target", ["workload_type": "service", "service": "web", "remote_port": 8080], kubeconfig: kubeconfig),
                self.entry("web-pods", ["workload_type": "pod", "target": "app=web", "remote_port": 8080], kubeconfig: kubeconfig),
                self.entry("web-context", ["workload_type": "service", "service": "web", "remote_port": 80, "context": contextName], kubeconfig: kubeconfig),
                self.entry("web-lenient", ["workload_type": "service", "service": "web", "remote_port": 80, "domain_enabled": "false", "http_logs_enabled": NSNull()], kubeconfig: kubeconfig),
                self.entry("echo", ["workload_type": "service", "service": "echo", "remote_port": 7000], kubeconfig: kubeconfig),
                self.entry("echo-pod", ["workload_type": "pod", "target": "app=echo", "remote_port": 7000, "context": "@current", "transport": "spdy"], kubeconfig: kubeconfig),
                // kftray's kubeconfig may be a list, merged as $KUBECONFIG is; missing files are skipped.
                self.entry("echo-kubeconfig-list", ["workload_type": "service", "service": "echo", "remote_port": 7000], kubeconfig: "\(harness.directory.path)/absent:\(kubeconfig)"),
                self.entry("busy", ["workload_type": "service", "service": "web", "remote_port": 80, "local_port": busyPort], kubeconfig: kubeconfig),
                self.entry("missing", ["workload_type": "service", "service": "nope", "remote_port": 80], kubeconfig: kubeconfig),
            ]
            let file = try harness.write("kftray.json", String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self))
            let http = ["web", "web-target", "web-pods", "web-context", "web-lenient"]
            let echo = ["echo", "echo-pod", "echo-kubeconfig-list"]
            let run = try await runKfwd(["up", "--config", file, "--pod-wait", "10"]) { lines in
                var answers: [String: String] = [:]
                for alias in http {
                    answers[alias] = try await RequestLoop.request(port: try await self.port(alias, lines)).pod ?? "failed"
                }
                for alias in echo {
                    answers[alias] = try await EchoClient.roundTrip(port: try await self.port(alias, lines), count: 4096, seed: 7) == 4096 ? "echoed" : "failed"
                }
                let busy = await lines.first { $0.contains("busy: ") && $0.contains("retrying in") } ?? ""
                let missing = await lines.first { $0.hasPrefix("missing: waiting") } ?? ""
                // The holder goes away: the busy forward comes up on its next attempt.
                try await blocker.close()
                answers["busy"] = try await RequestLoop.request(port: try await self.port("busy", lines)).pod ?? "failed"
                // The missing Service appears: its forward serves without a restart.
                try harness.sim.apply(yaml: """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: nope, namespace: shop}
                    spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
                    """)
                _ = await lines.first { $0.hasPrefix("missing: ready") }
                answers["missing"] = try await RequestLoop.request(port: try await self.port("missing", lines)).pod ?? "failed"
                return (answers, busy, missing)
            }
            let (answers, busy, missing) = run.value
            for alias in http + ["busy", "missing"] {
                #expect(answers[alias]?.hasPrefix("web-") == true, "\(alias): \(answers[alias] ?? "-") \(run.lines)")
            }
            for alias in echo { #expect(answers[alias] == "echoed", "\(alias) \(run.lines)") }
            // kfwd's own `transport` field forces one; the rest negotiate the tunnel.
            #expect(run.lines.contains("echo-pod: transport spdy"), "\(run.lines)")
            #expect(run.lines.contains("echo: transport tunnel"), "\(run.lines)")
            #expect(busy.contains("local port \(busyPort)") && busy.contains("in use"), "\(busy)")
            #expect(missing.contains("service nope does not exist in namespace shop"), "\(missing)")
            #expect(run.lines.contains { $0.hasPrefix("warning:") && $0.contains("(missing)") } == false)
            // Ten forwards, one namespace: one watch per kind they need, however many use it.
            let watches = Dictionary(grouping: harness.sim.requests.filter(\.isWatch), by: \.path).mapValues(\.count)
            #expect(watches == [
                "/api/v1/namespaces/shop/services": 1, "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices": 1,
                "/api/v1/namespaces/shop/pods": 1,
            ], "\(watches)")
            #expect(run.status.isSuccess, "\(run.lines)")
        }
    }

    @Test func entriesKfwdCannotRunAreNamedAndTheOthersRun() async throws {
        try await SimHarness.run(manifest: self.shop) { harness in
            let kubeconfig = harness.kubeconfigPath
            let entries: [[String: Any]] = [
                self.entry("echo", ["workload_type": "service", "service": "echo", "remote_port": 7000, "colour": "blue", "domain_enabled": true], kubeconfig: kubeconfig),
                self.entry("dns", ["workload_type": "pod", "target": "app=dns", "remote_port": 53, "protocol": "sctp"], kubeconfig: kubeconfig),
                self.entry("db", ["workload_type": "proxy", "remote_port": 5432], kubeconfig: kubeconfig),
                self.entry("nameless", ["workload_type": "service", "remote_port": 80], kubeconfig: kubeconfig),
                self.entry("typo", ["workload_type": "service", "service": "web", "remote_port": "80"], kubeconfig: kubeconfig),
                self.entry("echo", ["workload_type": "pod", "target": "app=echo", "remote_port": 7000], kubeconfig: kubeconfig),
                self.entry("ctx", ["workload_type": "service", "service": "echo", "remote_port": 7000, "context": "staging"], kubeconfig: kubeconfig),
                self.entry("quic", ["workload_type": "service", "service": "echo", "remote_port": 7000, "transport": "quic"], kubeconfig: kubeconfig),
            ]
            let file = try harness.write("kftray.json", String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self))
            let run = try await runKfwd(["up", "--config", file]) { lines in
                let echoed = try await EchoClient.roundTrip(port: try await self.port("echo", lines), count: 1024, seed: 1)
                _ = await lines.first { $0.contains("ctx: ") && $0.contains("retrying") }
                return echoed
            }
            #expect(run.value == 1024)
            let output = run.lines.joined(separator: "\n")
            for expected in [
                "warning: \(file) entry 1 (echo): unknown field colour ignored",
                "warning: \(file) entry 1 (echo): domain_enabled (kfwd does not write hosts-file entries) is ignored",
                "error: \(file) entry 2 (dns): field 'protocol' is 'sctp': use tcp or udp",
                "error: \(file) entry 3 (db): workload_type 'proxy' needs the field 'remote_address'",
                "error: \(file) entry 4 (nameless): workload_type 'service' needs the field 'service'",
                "error: \(file): entry 5: field 'remote_port' must be a number; the entry is skipped",
                "error: \(file) entry 6 (echo): another entry already has the alias 'echo'",
                "error: ctx: context 'staging' is not in the kubeconfig (available: 'kubesim'); retrying in",
                "error: \(file) entry 8 (quic): field 'transport': unknown transport 'quic': use auto, tunnel, spdy or websocket",
            ] {
                #expect(output.contains(expected), "missing \(expected) in:\n\(output)")
            }
            #expect(run.status.isSuccess)
        }
    }

    @Test func aFileWithNothingToRunOrAnUnknownAliasFails() async throws {
        try await SimHarness.run { harness in
            let file = try harness.write("kftray.json", #"[{"namespace": "a", "workload_type": "expose", "remote_port": 80}]"#)
            let nothing = try await runKfwd(["up", "--config", file]) { lines in await lines.untilEnd() }
            #expect(nothing.lines.contains("error: \(file): no entry can run"), "\(nothing.lines)")
            #expect(nothing.status == .exited(1))
            let good = try harness.write("good.json", #"[{"alias": "web", "namespace": "a", "workload_type": "service", "service": "web", "remote_port": 80}]"#)
            let unknown = try await runKfwd(["up", "--config", good, "api"]) { lines in await lines.untilEnd() }
            #expect(unknown.lines == ["error: \(good) has no forward with the alias 'api' (it has: web)"])
            #expect(unknown.status == .exited(1))
        }
    }

    /// The local port of `ALIAS: Forwarding from 127.0.0.1:PORT`.
    private func port(_ alias: String, _ lines: OutputLines) async throws -> Int {
        let prefix = "\(alias): Forwarding from 127.0.0.1:"
        guard let line = await lines.first(where: { $0.hasPrefix(prefix) }), let port = Int(line.dropFirst(prefix.count).prefix { $0.isNumber }) else {
            throw KubeSimTestError("\(alias) did not start forwarding: \(lines.all)")
        }
        return port
    }
}
