import Foundation
import KubeClient
import KubeSim
import Logging

/// A running KubeSim with a scratch directory and a kubeconfig written for it.
struct SimHarness: Sendable {
    let sim: KubeSim
    let directory: URL
    let kubeconfigPath: String

    /// Starts a simulator for the body of one test.
    static func run<T: Sendable>(
        manifest: String? = nil, configure: (inout KubeSim.Configuration) -> Void = { _ in },
        _ body: (SimHarness) async throws -> T
    ) async throws -> T {
        var configuration = KubeSim.Configuration()
        if let manifest { configuration.objects = try ManifestLoader.parse(manifest) }
        configure(&configuration)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "kubesim-test")
        logger.logLevel = .error
        return try await KubeSim.withRunning(configuration, logger: logger) { sim in
            let path = directory.appendingPathComponent("kubeconfig").path
            try sim.writeKubeconfig(to: path)
            return try await body(SimHarness(sim: sim, directory: directory, kubeconfigPath: path))
        }
    }

    /// An exec credential plugin, `plugin.sh` in the harness folder: it prints the token in
    /// `current-token` (set to `token` now; rewrite it to rotate), valid for an hour, appends a
    /// line to `runs` each time it runs, and runs `also` (shell lines) first.
    func writeTokenPlugin(token: String, also: String = "") throws {
        _ = try self.write("current-token", token)
        let expiry = Date().addingTimeInterval(3600).formatted(.iso8601)
        let plugin = """
            #!/bin/sh
            dir="$(dirname "$0")"
            echo run >> "$dir/runs"
            \(also)
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"\(expiry)"}}' "$(cat "$dir/current-token")"
            """
        _ = try self.write("plugin.sh", plugin, mode: 0o755)
    }

    func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let path = self.directory.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    /// The context of the written kubeconfig, read by KubeClient's own loader.
    func context(_ name: String? = nil, path: String? = nil) throws -> KubeContext {
        let config = try KubeconfigLoader(explicitPath: path ?? self.kubeconfigPath).load()
        return try KubeContext(config, context: name)
    }

    /// A kubeconfig for this cluster whose user `tester` has the given YAML fields.
    func kubeconfig(user: String) throws -> String {
        try self.sim.kubeconfig(user: .entry(name: "tester", yaml: user))
    }
}

/// The sample workload most tests use: a Deployment of http-echo pods behind a Service.
let webManifest = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: default}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: kubesim/http-echo
            ports: [{name: http, containerPort: 8080}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: default}
    spec:
      selector: {app: web}
      ports: [{name: http, port: 80, targetPort: http}]
    """

/// ``webManifest`` in another namespace.
func webManifest(in namespace: String) -> String {
    webManifest.replacingOccurrences(of: "namespace: default", with: "namespace: \(namespace)")
}

/// A TCP echo pod behind the Service `echo` (port 7000) in namespace `shop`.
let shopEchoManifest = """
    apiVersion: v1
    kind: Pod
    metadata: {name: echo, namespace: shop, labels: {app: echo}}
    spec:
      containers: [{name: echo, image: kubesim/tcp-echo, ports: [{containerPort: 7000}]}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: echo, namespace: shop}
    spec:
      selector: {app: echo}
      ports: [{port: 7000}]
    """

extension KubeSim {
    /// The methods of the port-forward upgrades it answered, in order (GET: a WebSocket or the
    /// tunnel; POST: plain SPDY).
    var portForwardUpgrades: [String] {
        self.requests.filter { $0.path.hasSuffix("/portforward") }.map(\.method)
    }

    /// Ready pods matching a selector in `default`.
    func readyPods(_ selector: String) -> [JSON] {
        ((try? self.objects("pods", labelSelector: selector)) ?? []).filter { pod in
            pod[path: ["metadata", "deletionTimestamp"]] == nil && isReady(pod)
        }
    }
}

/// Whether a pod's `Ready` condition is `"True"`.
func isReady(_ pod: JSON?) -> Bool {
    (pod?[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
}
