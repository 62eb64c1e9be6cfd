import ArgumentParser
import Forwarding
import Foundation
import KubeClient
import KubeSim
import Logging
import NIOPosix
import Synchronization

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run kfwd against an embedded cluster, and show what to try.",
        discussion: """
            Starts KubeSim (a local Kubernetes API with real pod backends) with a small shop: a web \
            Deployment of three HTTP pods behind the Service web, a TCP echo pod, and a UDP echo behind the \
            Service dns. Forwards svc/web, pod/echo and (UDP, through a kfwd relay pod that this kfwd binary \
            serves) svc/dns, then prints a curl loop and the kubectl command that deletes every web pod under \
            it. Runs until Ctrl-C.
            """
    )

    @Option(help: "Local port for svc/web (default 8080, or a free one when 8080 is taken).")
    var webPort: Int?

    @Option(help: "Where to write the demo cluster's kubeconfig.")
    var kubeconfig: String?

    func run() async throws {
        var logger = Logger(label: "kfwd-demo")
        logger.logLevel = .error
        var configuration = KubeSim.Configuration()
        configuration.objects = try ManifestLoader.parse(DemoManifest.yaml)
        // The relay image runs as this very binary's `kfwd relay`.
        configuration.images[RelaySettings.defaultImage] = "'\(Terminal.executable)' relay --listen {host}:{port}"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-demo-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let kubeconfigPath = self.kubeconfig ?? directory.appendingPathComponent("kubeconfig").path
        // The usual ports when free, else 0: the forwards then bind free ones and report them (a
        // port probed free here and bound later could be taken in between).
        let webPort: Int
        if let chosen = self.webPort { webPort = chosen } else { webPort = try await Self.preferred(8080) }
        let echoPort = try await Self.preferred(7000)
        let dnsPort = try await Self.preferred(5353, udp: true)
        let failed = try await KubeSim.withRunning(configuration, logger: logger) { sim in
            try sim.writeKubeconfig(to: kubeconfigPath)
            let context = try KubeContext(try KubeconfigLoader(explicitPath: kubeconfigPath).load())
            let cache = KubeClientCache(logger: logger)
            let relays = RelayPods(cache: cache, logger: logger)
            func forward(_ alias: String, _ target: ForwardTarget, _ local: Int, _ remote: Int, udp: Bool = false) -> ResilientForward {
                let spec = ForwardSpec(
                    alias: alias, kubeconfig: kubeconfigPath, namespace: "shop", target: target, mappings: [PortMapping(local: local, remote: remote)],
                    udp: udp
                )
                return ResilientForward(spec: spec, context: context, cache: cache, relays: relays, traffic: nil)
            }
            let web = forward("web", .service("web"), webPort, 80)
            let echo = forward("echo", .pod("echo"), echoPort, 7000)
            let dns = forward("dns", .service("dns"), dnsPort, 5353, udp: true)
            try await sim.waitUntil { sim in
                (try? sim.objects("pods", namespace: "shop"))?.allSatisfy { pod in
                    (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
                        $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
                    }
                } ?? false
            }
            let bound = Mutex<[Int: Int]>([:])
            let url = sim.url
            return await ForwardCommand.runUntilSignal(cache: cache, relays: relays, network: NetworkWatch.Settings(), logger: logger, web, echo, dns) { event in
                Terminal.report(event)
                guard case .listening(_, let local, .number(let remote)) = event else { return }
                let ports = bound.withLock { bound -> (Int, Int, Int)? in
                    guard bound[remote] == nil else { return nil }
                    bound[remote] = local
                    guard let web = bound[80], let echo = bound[7000], let dns = bound[5353] else { return nil }
                    return (web, echo, dns)
                }
                if let (web, echo, dns) = ports { Self.banner(url: url, web: web, echo: echo, dns: dns, kubeconfig: kubeconfigPath) }
            }
        }
        if failed { throw ExitCode.failure }
    }

    /// The port when it is free, else 0 (any).
    private static func preferred(_ port: Int, udp: Bool = false) async throws -> Int {
        do {
            if udp {
                let probe = try await DatagramBootstrap(group: .singletonMultiThreadedEventLoopGroup).bind(host: "127.0.0.1", port: port).get()
                try await probe.close()
            } else {
                let probe = try await LocalListener.probe(PortMapping(local: port, remote: port), addresses: .localhost, group: .singletonMultiThreadedEventLoopGroup)
                await probe.close()
            }
            return port
        } catch {
            return 0
        }
    }

    private static func banner(url: String, web webPort: Int, echo echoPort: Int, dns dnsPort: Int, kubeconfig kubeconfigPath: String) {
        Terminal.line(
            """
            kfwd demo: a local cluster (KubeSim) runs at \(url) with namespace shop.
              svc/web  -> http://127.0.0.1:\(webPort)   (3 HTTP pods; each answer names its pod)
              pod/echo -> 127.0.0.1:\(echoPort)         (TCP echo)
              svc/dns  -> udp 127.0.0.1:\(dnsPort)     (UDP echo, through a kfwd relay pod)

            Try, in another terminal:
              while true; do { curl -sf --max-time 5 http://127.0.0.1:\(webPort)/ || echo FAILED; } | head -1; sleep 0.05; done
            and in a third, delete every web pod under that loop (twice, if you like):
              KUBECONFIG=\(kubeconfigPath) kubectl delete pods -n shop -l app=web --force --grace-period=0
            Watch for: the loop keeps answering, from the new pods; no FAILED line.
            Also: KUBECONFIG=\(kubeconfigPath) kubectl rollout restart deployment/web -n shop
            UDP:  echo hello | nc -u -w1 127.0.0.1 \(dnsPort)

            Ctrl-C stops everything.
            """
        )
    }
}
