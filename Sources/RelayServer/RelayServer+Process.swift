import KfwdVersion
import Logging
import NIOCore
import NIOPosix
import RelayProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RelayServer {
    /// Runs a relay as its container does: configured by the environment (`--listen HOST:PORT`
    /// overrides the address), logging to standard error, until SIGTERM or the idle exit.
    /// `--version` prints the versions; `--check` is the pod's readiness probe.
    /// - Returns: the process's exit status: 0 after a clean stop, 2 for a bad configuration,
    ///   1 when the port cannot be bound (or, for `--check`, does not accept).
    package static func runAsProcess(arguments: [String]) async -> Int32 {
        if arguments == ["--version"] {
            print("kfwd-relay \(KfwdVersion.current) (relay protocol \(RelayHeader.version))")
            return 0
        }
        let logger = Logger(label: "kfwd-relay") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let check = arguments.contains("--check")
        let configuration: RelayConfiguration
        do {
            configuration = try RelayConfiguration.load(
                environment: { name in getenv(name).map { String(cString: $0) } }, arguments: arguments.filter { $0 != "--check" }
            )
        } catch {
            logger.critical("\(error.description)")
            return 2
        }
        if check { return await Self.check(configuration) }
        do {
            _ = try await RelayServer(configuration: configuration, logger: logger).run()
            return 0
        } catch {
            logger.critical("cannot listen on \(configuration.listenHost):\(configuration.listenPort): \(error)")
            return 1
        }
    }

    /// The readiness probe, run inside the pod: the relay listens on the pod's loopback, where no
    /// probe from the node reaches. Connecting and closing without a header is not a stream the
    /// relay logs or counts.
    private static func check(_ configuration: RelayConfiguration) async -> Int32 {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(1))
                .connect(host: configuration.listenHost, port: configuration.listenPort).get()
            try? await channel.close()
            return 0
        } catch {
            return 1
        }
    }
}
