import Foundation
import Testing

/// `kfwd discover` against KubeSim Services carrying kftray's annotations and kfwd's own.
@Suite struct DiscoverTests {
    static let manifest = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: shop
          annotations: {kftray.app/enabled: "true", kftray.app/configs: "web-8080-80,webadmin-9090-admin"}
        spec:
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 9000, targetPort: 9000}]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: api
          namespace: shop
          annotations: {kftray.app/enabled: "true"}
        spec:
          selector: {app: api}
          ports: [{port: 80, targetPort: 8081}]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: db
          annotations:
            kfwd.dev/forwards: '[{alias: pg, ports: [5432], address: auto, hostnames: [db.local], tags: [data]}]'
        spec:
          selector: {app: db}
          ports: [{port: 5432}]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: bad
          annotations: {kftray.app/enabled: "true", kftray.app/configs: "broken"}
        spec:
          selector: {app: bad}
          ports: [{port: 80}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: plain}
        spec:
          selector: {app: plain}
          ports: [{port: 80}]
        """

    @Test func annotatedServicesProposeForwardsAndABadAnnotationIsNamed() async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await StoreCommandTests.withHome { home in
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                let found = try await kfwd(["discover", "-A", "-o", "json", "--kubeconfig", harness.kubeconfigPath])
                #expect(found.succeeded, "\(found.stderr)")
                let proposals = try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as? [[String: Any]] ?? []
                let byAlias = Dictionary(proposals.compactMap { p in (p["alias"] as? String).map { ($0, p["config"] as? [String: Any] ?? [:]) } }, uniquingKeysWith: { a, _ in a })
                #expect(Set(byAlias.keys) == ["pg", "web", "webadmin", "api"], "\(found.stdout)")
                #expect(byAlias["web"]?["ports"] as? [String] == ["8080:80"] && byAlias["web"]?["target"] as? String == "svc/web" && byAlias["web"]?["namespace"] as? String == "shop")
                #expect(byAlias["webadmin"]?["ports"] as? [String] == ["9090:admin"])
                #expect(byAlias["api"]?["ports"] as? [String] == ["8081:80"])
                #expect(byAlias["pg"]?["hostnames"] as? [String] == ["db.local"] && byAlias["pg"]?["address"] as? String == "auto")
                #expect(found.stderr.contains("service default/bad: annotation kftray.app/configs item 'broken' is not alias-localport-target"), "\(found.stderr)")

                // One namespace; then saved, and saved again without complaint.
                let shop = try await kfwd(["discover", "-n", "shop", "-o", "json", "--kubeconfig", harness.kubeconfigPath])
                #expect((try JSONSerialization.jsonObject(with: Data(shop.stdout.utf8)) as? [Any])?.count == 3)
                for _ in 0..<2 { #expect(try await kfwd(["discover", "-A", "--import", "--kubeconfig", harness.kubeconfigPath]).succeeded) }
                let listed = try await kfwd(["list", "-o", "json"])
                let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
                #expect(Set(rows.compactMap { $0["alias"] as? String }) == ["pg", "web", "webadmin", "api"], "\(listed.stdout)")
                #expect(rows.first { $0["alias"] as? String == "pg" }?["tags"] as? [String] == ["data"])
            }
        }
    }
}
