import Forwarding
import Foundation
import KubeClient
import KubeSim
import Logging
import NIOCore
import NIOPosix

/// Through `kfwd forward` (the Forwarding engine over the WebSocket transport, against KubeSim)
/// versus a direct loopback connection to the same pod backend, in one run: one-connection
/// throughput, small request/response latency, and connection setup.
@main
struct Bench {
    static let manifest = """
        apiVersion: v1
        kind: Pod
        metadata: {name: echo, namespace: default}
        spec:
          containers: [{name: echo, image: kubesim/tcp-echo, ports: [{containerPort: 7000}]}]
        """

    static func main() async throws {
        switch CommandLine.arguments.dropFirst().first {
        case "resilience":
            try await Resilience.run()
        case "kubectl":
            try await VersusKubectl.run()
        case "delay-proxy":
            try await DelayProxy.run(Array(CommandLine.arguments.dropFirst(2)))
        case "copy-relay":
            try CopyRelay.run(Array(CommandLine.arguments.dropFirst(2)))
        default:
            try await Self.run()
        }
    }

    nonisolated static func run() async throws {
        var configuration = KubeSim.Configuration()
        configuration.objects = try ManifestLoader.parse(Self.manifest)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let forwardGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await KubeSim.withRunning(configuration, logger: logger) { sim in
            try await sim.waitUntil { sim in sim.object("pods", name: "echo")?[path: ["status", "phase"]]?.stringValue == "Running" }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-bench-\(getpid()).kubeconfig").path
            try sim.writeKubeconfig(to: path)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let context = try KubeContext(try KubeconfigLoader(explicitPath: path).load())
            guard let backend = sim.backendEndpoint(pod: "echo", port: 7000) else { fatalError("no backend") }
            try await KubeClient.withClient(context: context, logger: logger) { client in
                let port = try await Self.freePort()
                let forward = PodForward(
                    client: client, transport: WebSocketPortForwardTransport(client: client), namespace: "default", pod: "echo",
                    mappings: [PortMapping(local: port, remote: 7000)]
                )
                let (events, continuation) = AsyncStream<ForwardEvent>.makeStream()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await forward.run(group: forwardGroup) { continuation.yield($0) } }
                    for await event in events {
                        if case .listening = event { break }
                    }
                    try await Self.report(direct: (backend.host, backend.port), forwarded: ("127.0.0.1", port))
                    group.cancelAll()
                }
            }
        }
        try await forwardGroup.shutdownGracefully()
    }

    static func report(direct: (String, Int), forwarded: (String, Int)) async throws {
        let megabytes = Int(ProcessInfo.processInfo.environment["BENCH_MIB"] ?? "256") ?? 256
        let roundTrips = Int(ProcessInfo.processInfo.environment["BENCH_ROUND_TRIPS"] ?? "5000") ?? 5000
        print("| measure | direct loopback | through kfwd forward | ratio (kfwd / direct) |")
        print("|---|---|---|---|")
        // Warm both paths once.
        _ = try await Probe.throughput(host: direct.0, port: direct.1, bytes: 8 << 20)
        _ = try await Probe.throughput(host: forwarded.0, port: forwarded.1, bytes: 8 << 20)

        let directRate = try await Probe.throughput(host: direct.0, port: direct.1, bytes: megabytes << 20)
        let forwardRate = try await Probe.throughput(host: forwarded.0, port: forwarded.1, bytes: megabytes << 20)
        print(String(format: "| echo throughput, one connection, %d MiB each way (MiB/s) | %.0f | %.0f | %.2f |", megabytes, directRate, forwardRate, forwardRate / directRate))

        let directLatency = try await Probe.latency(host: direct.0, port: direct.1, roundTrips: roundTrips)
        let forwardLatency = try await Probe.latency(host: forwarded.0, port: forwarded.1, roundTrips: roundTrips)
        for (name, pick) in [("p50", 0.50), ("p99", 0.99)] {
            let d = Probe.percentile(directLatency, pick)
            let f = Probe.percentile(forwardLatency, pick)
            print(String(format: "| 64-byte request/response %@, %d round trips (µs) | %.0f | %.0f | %.2f |", name, roundTrips, d, f, f / d))
        }

        let directSetup = try await Probe.setup(host: direct.0, port: direct.1, count: 200)
        let forwardSetup = try await Probe.setup(host: forwarded.0, port: forwarded.1, count: 200)
        print(String(format: "| new connection + first 64-byte echo, p50 of 200 (µs) | %.0f | %.0f | %.2f |", Probe.percentile(directSetup, 0.5), Probe.percentile(forwardSetup, 0.5), Probe.percentile(forwardSetup, 0.5) / Probe.percentile(directSetup, 0.5)))
    }

    static func freePort() async throws -> Int {
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress!.port!
        try await probe.close()
        return port
    }
}
