import Foundation
import Testing

@testable import KubeClient

@Suite struct KubeconfigLoaderTests {
    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("a"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: url.appendingPathComponent("b"), withIntermediateDirectories: true)
        return url
    }

    private let first = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: shared
          cluster: {server: "https://first:6443", certificate-authority: ca.crt}
        users:
        - name: me
          user: {client-certificate: certs/me.crt, client-key: /abs/me.key, tokenFile: token}
        contexts:
        - name: dev
          context: {cluster: shared, user: me, namespace: team-a}
        """

    private let second = """
        {"apiVersion": "v1", "kind": "Config", "current-context": "prod",
         "clusters": [{"name": "shared", "cluster": {"server": "https://second:6443"}},
                      {"name": "other", "cluster": {"server": "https://other:6443"}}],
         "users": [{"name": "me", "user": {"token": "ignored"}},
                   {"name": "ops", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "./bin/login", "interactiveMode": "Never"}}}],
         "contexts": [{"name": "dev", "context": {"cluster": "other", "user": "ops"}},
                      {"name": "prod", "context": {"cluster": "other", "user": "ops"}}]}
        """

    @Test func firstFileWinsEachNameWholeAndFirstNonEmptyCurrentContextWins() throws {
        let dir = try self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a/config").path
        let b = dir.appendingPathComponent("b/config.json").path
        try self.first.write(toFile: a, atomically: true, encoding: .utf8)
        try self.second.write(toFile: b, atomically: true, encoding: .utf8)
        let missing = dir.appendingPathComponent("missing").path
        let config = try KubeconfigLoader(environment: ["KUBECONFIG": "\(missing):\(a):\(b):\(a)"]).load()
        #expect(config.currentContext == "prod")
        #expect(config.clusters?.first { $0.name == "shared" }?.cluster.server == "https://first:6443")
        #expect(config.users?.first { $0.name == "me" }?.user.token == nil)
        #expect(config.contexts?.first { $0.name == "dev" }?.context.cluster == "shared")
        #expect(config.contexts?.count == 2)

        let dev = try KubeContext(config, context: "dev")
        #expect(dev.namespace == "team-a")
        #expect(dev.cluster.certificateAuthority == dir.appendingPathComponent("a/ca.crt").path)
        #expect(dev.user.clientCertificate == dir.appendingPathComponent("a/certs/me.crt").path)
        #expect(dev.user.clientKey == "/abs/me.key")
        #expect(dev.user.tokenFile == dir.appendingPathComponent("a/token").path)

        let prod = try KubeContext(config)
        #expect(prod.name == "prod")
        #expect(prod.namespace == "default")
        #expect(prod.user.exec?.command == dir.appendingPathComponent("b/bin/login").path)
    }

    @Test func explicitPathIsLoadedAloneAndMustExist() throws {
        let dir = try self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a/config").path
        try self.first.write(toFile: a, atomically: true, encoding: .utf8)
        let error = #expect(throws: KubeError.self) {
            try KubeconfigLoader(explicitPath: dir.appendingPathComponent("nope").path, environment: ["KUBECONFIG": a]).load()
        }
        #expect(error?.message.contains("--kubeconfig") == true)
        let config = try KubeconfigLoader(explicitPath: a, environment: [:]).load()
        #expect(config.currentContext == nil)
        let noCurrent = #expect(throws: KubeError.self) { try KubeContext(config) }
        #expect(noCurrent?.message.contains("'dev'") == true)
    }

    @Test func defaultsToHomeKubeConfig() {
        #expect(KubeconfigLoader(environment: ["HOME": "/home/u"]).paths == ["/home/u/.kube/config"])
        #expect(KubeconfigLoader(environment: ["HOME": "/home/u", "KUBECONFIG": ""]).paths == ["/home/u/.kube/config"])
    }

    @Test func badContextsNameWhatIsMissing() throws {
        let config = Kubeconfig(
            clusters: [.init(name: "c", cluster: .init(server: "https://c:6443", certificateAuthorityData: "x"))],
            users: [.init(name: "u", user: .init())],
            contexts: [.init(name: "ok", context: .init(cluster: "c", user: "u")), .init(name: "lost", context: .init(cluster: "gone", user: "u"))]
        )
        let missing = #expect(throws: KubeError.self) { try KubeContext(config, context: "staging") }
        #expect(missing?.message == "context 'staging' is not in the kubeconfig (available: 'ok', 'lost')")
        let lost = #expect(throws: KubeError.self) { try KubeContext(config, context: "lost") }
        #expect(lost?.message.contains("cluster 'gone'") == true)
        var insecure = config
        insecure.clusters![0].cluster.insecureSkipTLSVerify = true
        let both = #expect(throws: KubeError.self) { try KubeContext(insecure, context: "ok") }
        #expect(both?.message.contains("insecure") == true)
    }

    @Test func malformedFileNamesTheFileAndField() throws {
        let dir = try self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("a/config").path
        try "clusters:\n- name: x\n  cluster: {server: [1, 2]}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: KubeError.self) { try KubeconfigLoader(explicitPath: path).load() }
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("server") == true)
    }

    @Test func inClusterContextReadsTheServiceAccount() throws {
        let dir = try self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "shop\n".write(toFile: dir.appendingPathComponent("namespace").path, atomically: true, encoding: .utf8)
        let context = try KubeContext.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], root: dir.path
        )
        #expect(context.server == "https://[fd00::1]:443")
        #expect(context.namespace == "shop")
        #expect(context.user.tokenFile == dir.appendingPathComponent("token").path)
        #expect(throws: KubeError.self) { try KubeContext.inCluster(environment: [:], root: dir.path) }
    }
}
