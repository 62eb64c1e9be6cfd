import ArgumentParser
import Foundation
import KubeSim
import Logging
import UnixSignals

@main
struct KubeSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubesim",
        abstract: "A local Kubernetes API server for development and tests.",
        subcommands: [Serve.self, FaultCommand.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Kubernetes API on loopback and write a kubeconfig for it.",
        discussion: """
            Prints `kubesim ready <url>` once serving, then runs until SIGINT or SIGTERM, when it stops \
            every pod backend it started.
            """
    )

    @Option(help: "Where to write the kubeconfig (context 'kubesim').")
    var kubeconfig: String

    @Option(help: "Port to listen on (default: a free port).")
    var port: Int = 0

    @Option(help: "Address to listen on (its serving certificate names it).")
    var address: String = "127.0.0.1"

    @Option(name: .customLong("manifests"), help: "A YAML manifest or a directory of them to create at start (repeatable).")
    var manifests: [String] = []

    @Option(name: .customLong("image"), help: "Run an image as a local command: NAME=COMMAND, with {port}, {host}, {pod} placeholders (repeatable).")
    var images: [String] = []

    @Flag(inversion: .prefixedNo, help: "Serve port-forward as SPDY tunnelled in a WebSocket (the apiserver's PortForwardWebsockets gate, on since 1.31); off, kubectl falls back to plain SPDY.")
    var portForwardTunnel = true

    @Flag(inversion: .prefixedNo, help: "Serve port-forward over plain SPDY; off plays a proxy that drops SPDY upgrades, leaving WebSocket.")
    var portForwardSpdy = true

    @Flag(help: "Log every request.")
    var verbose = false

    func validate() throws {
        for image in self.images where !image.contains("=") {
            throw ValidationError("--image '\(image)' must be NAME=COMMAND, e.g. --image 'postgres=postgres -p {port}'")
        }
        if !(0...65535).contains(self.port) {
            throw ValidationError("--port \(self.port) is not a TCP port (0 to 65535)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "kubesim")
        logger.logLevel = self.verbose ? .debug : .notice
        var configuration = KubeSim.Configuration()
        configuration.port = self.port
        configuration.host = self.address
        if !["127.0.0.1", "::1", "localhost"].contains(self.address) { configuration.certificateNames = [self.address] }
        for image in self.images {
            let parts = image.split(separator: "=", maxSplits: 1).map(String.init)
            configuration.images[parts[0]] = parts[1]
        }
        do {
            configuration.objects = try self.manifests.flatMap { try ManifestLoader.load(path: $0) }
            // Namespaces first, as `kubectl create -f` of a directory needs them.
            configuration.objects.sort { ($0["kind"]?.stringValue == "Namespace" ? 0 : 1) < ($1["kind"]?.stringValue == "Namespace" ? 0 : 1) }
        } catch {
            throw ValidationError("\(error)")
        }
        let kubeconfig = self.kubeconfig
        try await KubeSim.withRunning(configuration, logger: logger) { sim in
            try sim.writeKubeconfig(to: kubeconfig)
            sim.portForwardTunnel = self.portForwardTunnel
            sim.portForwardSPDY = self.portForwardSpdy
            print("kubesim ready \(sim.url)")
            fflush(nil)
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
        }
    }
}
