import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `kfwd-relay`: the in-cluster end of kfwd's UDP and `proxy` forwards (docs/relay-protocol.md).
/// Configured by its environment; `--listen HOST:PORT` overrides the listen address.
@main
enum RelayMain {
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "kfwd-relay")
        let configuration: RelayConfiguration
        do {
            configuration = try RelayConfiguration.load(
                environment: { name in getenv(name).map { String(cString: $0) } },
                arguments: Array(CommandLine.arguments.dropFirst())
            )
        } catch {
            logger.critical("\(error.description)")
            exit(2)
        }
        do {
            _ = try await RelayServer(configuration: configuration, logger: logger).run()
        } catch {
            logger.critical("cannot listen on \(configuration.listenHost):\(configuration.listenPort): \(error)")
            exit(1)
        }
    }
}
