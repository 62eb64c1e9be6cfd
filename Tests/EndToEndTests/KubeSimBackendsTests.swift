import Foundation
import KubeSim
import Testing

/// Pods are real servers: clients connect to them over loopback, and they die with their pod.
@Suite struct KubeSimBackendsTests {
    private let echoClient = """
        import socket, sys
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
        s.sendall(b"ping")
        print("echo", s.recv(4).decode(), flush=True)
        data = s.recv(1)
        print("closed" if data == b"" else "data", flush=True)
        """

    @Test func deletingAPodCutsItsOpenConnections() async throws {
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: echo, namespace: default}
            spec:
              containers:
              - {name: echo, image: kubesim/tcp-echo, ports: [{containerPort: 7000}]}
            """
        try await SimHarness.run(manifest: manifest) { harness in
            try await harness.sim.waitUntil { _ in harness.sim.backendEndpoint(pod: "echo", port: 7000) != nil }
            let endpoint = try #require(harness.sim.backendEndpoint(pod: "echo", port: 7000))
            let client = try harness.write("client.py", self.echoClient)
            let (lines, status) = try await streamLines("python3", [client, endpoint.host, String(endpoint.port)]) { line in
                if line == "echo ping" { try harness.sim.delete("pods", name: "echo", gracePeriod: 0) }
                return true
            }
            #expect(status.isSuccess)
            #expect(lines == ["echo ping", "closed"])
            #expect(harness.sim.backendEndpoint(pod: "echo", port: 7000) == nil)
        }
    }

    @Test func mappedImageRunsAsALocalCommandWithThePodEnvironment() async throws {
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: files, namespace: default}
            spec:
              containers:
              - name: files
                image: registry.example/static-files:2
                env: [{name: GREETING, value: hello-from-env}]
                ports: [{name: http, containerPort: 8000}]
            """
        try await SimHarness.run(manifest: manifest, configure: { config in
            config.images["registry.example/static-files"] =
                "cd \"$(mktemp -d)\" && printf '%s' \"$GREETING {pod}\" > index.html && python3 -m http.server {port} --bind {host}"
        }) { harness in
            try await harness.sim.waitUntil { isReady($0.object("pods", name: "files")) }
            let endpoint = try #require(harness.sim.backendEndpoint(pod: "files", port: 8000))
            let fetch = try await runCommand("python3", ["-c", "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())", "http://\(endpoint.host):\(endpoint.port)/"])
            #expect(fetch.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "hello-from-env files")
        }
    }

    @Test func unknownImageStaysInErrImagePull() async throws {
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: mystery, namespace: default}
            spec:
              containers:
              - {name: app, image: example.com/unknown:1}
            """
        try await SimHarness.run(manifest: manifest) { harness in
            try await harness.sim.waitUntil { sim in
                sim.object("pods", name: "mystery")?[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting", "reason"]] == "ErrImagePull"
            }
        }
    }

    @Test func gracefulDeletionLooksAsTheApiserverMakesIt() async throws {
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: slow, namespace: default, annotations: {kubesim.io/shutdown-delay-seconds: "1"}}
            spec:
              terminationGracePeriodSeconds: 5
              containers:
              - {name: echo, image: kubesim/tcp-echo, ports: [{containerPort: 7001}]}
            """
        try await SimHarness.run(manifest: manifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("").count == 1 }
            try harness.sim.delete("pods", name: "slow")
            let terminating = try #require(harness.sim.object("pods", name: "slow"))
            #expect(terminating[path: ["metadata", "deletionGracePeriodSeconds"]] == 5)
            #expect(terminating[path: ["metadata", "deletionTimestamp"]] != nil)
            // Not ready at once, but still serving while its container shuts down.
            try await harness.sim.waitUntil { $0.readyPods("").isEmpty }
            #expect(harness.sim.backendEndpoint(pod: "slow", port: 7001) != nil)
            try await harness.sim.waitUntil { $0.object("pods", name: "slow") == nil }
        }
    }
}
