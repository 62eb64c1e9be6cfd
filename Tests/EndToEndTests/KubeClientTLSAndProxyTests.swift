import Foundation
import KubeClient
import KubeSim
import Testing

/// The cluster fields of a kubeconfig that change how KubeClient reaches the server:
/// `tls-server-name`, `insecure-skip-tls-verify` and `proxy-url`; and what a client sees when
/// the API server restarts.
@Suite struct KubeClientTLSAndProxyTests {
    /// A context for the simulator as the admin, with the cluster entry shaped by `edit`.
    private func context(_ harness: SimHarness, edit: (inout Kubeconfig.Cluster) -> Void) throws -> KubeContext {
        var cluster = Kubeconfig.Cluster(
            server: harness.sim.url, certificateAuthorityData: Data(harness.sim.certificateAuthority.certificatePEM.utf8).base64EncodedString()
        )
        edit(&cluster)
        var user = Kubeconfig.User()
        user.token = harness.sim.adminToken
        return try KubeContext(Kubeconfig(
            clusters: [.init(name: "sim", cluster: cluster)], users: [.init(name: "admin", user: user)],
            contexts: [.init(name: "sim", context: .init(cluster: "sim", user: "admin"))], currentContext: "sim"
        ))
    }

    @Test func tlsServerNameIsVerifiedInsteadOfTheURLHost() async throws {
        // The serving certificate names `kubernetes` and 127.0.0.1, not 127.0.0.2 nor `elsewhere.test`
        // (NIOSSL would also accept a certificate naming the address it connected to, so the
        // server must listen on an address the certificate does not name).
        try await SimHarness.run(configure: { $0.host = "127.0.0.2" }) { harness in
            let byAddress = try self.context(harness) { _ in }
            let refused = await #expect(throws: KubeError.self) {
                try await KubeClient.withClient(context: byAddress) { try await $0.list(Namespace.self, namespace: nil) }
            }
            #expect(refused?.message.contains("TLS") == true, "\(refused?.message ?? "")")

            let named = try self.context(harness) { $0.tlsServerName = "kubernetes" }
            let namespaces = try await KubeClient.withClient(context: named) { try await $0.list(Namespace.self, namespace: nil) }
            #expect(namespaces.items.contains { $0.metadata.name == "default" })

            let wrong = try self.context(harness) { $0.tlsServerName = "elsewhere.test" }
            let error = await #expect(throws: KubeError.self) {
                try await KubeClient.withClient(context: wrong) { try await $0.list(Namespace.self, namespace: nil) }
            }
            #expect(error?.code == .transport)
            #expect(error?.message.contains("TLS") == true, "\(error?.message ?? "")")
        }
    }

    @Test func insecureSkipTLSVerifyIsTheOnlyWayWithoutTheCA() async throws {
        try await SimHarness.run { harness in
            let untrusted = try self.context(harness) { $0.certificateAuthorityData = nil }
            let error = await #expect(throws: KubeError.self) {
                try await KubeClient.withClient(context: untrusted) { try await $0.list(Namespace.self, namespace: nil) }
            }
            #expect(error?.message.contains("TLS") == true, "\(error?.message ?? "")")

            let insecure = try self.context(harness) {
                $0.certificateAuthorityData = nil
                $0.insecureSkipTLSVerify = true
            }
            let namespaces = try await KubeClient.withClient(context: insecure) { try await $0.list(Namespace.self, namespace: nil) }
            #expect(namespaces.items.count == 4)
        }
    }

    @Test func proxyURLTunnelsThroughHTTPConnect() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("interop/connect_proxy.py").path
        try await SimHarness.run { harness in
            var listed: [String] = []
            var tunnels: [String] = []
            let (lines, _) = try await streamLines("python3", [script]) { line in
                if line.hasPrefix("listening ") {
                    let proxy = try self.context(harness) { $0.proxyURL = "http://127.0.0.1:\(line.dropFirst("listening ".count))" }
                    listed = try await KubeClient.withClient(context: proxy) {
                        try await $0.list(Namespace.self, namespace: nil).items.compactMap(\.metadata.name)
                    }
                    return true
                }
                if line.hasPrefix("CONNECT ") { tunnels.append(String(line.dropFirst("CONNECT ".count))) }
                return tunnels.isEmpty
            }
            #expect(listed.contains("default"), "proxy output: \(lines)")
            #expect(tunnels == ["127.0.0.1:\(harness.sim.port)"])
        }
    }

    @Test func informerCarriesOnAcrossAnAPIServerRestart() async throws {
        try await SimHarness.run { harness in
            let cache = KubeClientCache()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await cache.run() }
                try await cache.withInformer(Service.self, context: try harness.context(), namespace: "default") { informer in
                    await informer.waitForSync()
                    try await harness.sim.waitUntil { $0.openWatches == 1 }
                    await harness.sim.stopAPI()
                    // The world moves on while the API is down; the client must catch up after.
                    try harness.sim.apply(yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: during-outage}\nspec: {ports: [{port: 80}]}")
                    try await harness.sim.startAPI()
                    for await _ in informer.changes() where informer.objects.contains(where: { $0.metadata.name == "during-outage" }) { break }
                    #expect(Set(informer.objects.compactMap(\.metadata.name)) == ["kubernetes", "during-outage"])
                }
                group.cancelAll()
            }
        }
    }
}
