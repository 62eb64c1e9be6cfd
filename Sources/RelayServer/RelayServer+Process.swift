import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RelayServer {
    /// Runs a relay as its container does: configured by the environment (`--listen HOST:PORT`
    /// overrides the address), logging to standard error, until SIGTERM or the idle exit.
    /// - Returns: the process's exit status: 0 after a clean stop, 2 for a bad configuration,
    ///   1 when the port cannot be bound.
    package static func runAsProcess(arguments: [String]) async -> Int32 {
        let logger = Logger(label: "kfwd-relay") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let configuration: RelayConfiguration
        do {
            configuration = try RelayConfiguration.load(environment: { name in getenv(name).map { String(cString: $0) } }, arguments: arguments)
        } catch {
            logger.critical("\(error.description)")
            return 2
        }
        do {
            _ = try await RelayServer(configuration: configuration, logger: logger).run()
            return 0
        } catch {
            logger.critical("cannot listen on \(configuration.listenHost):\(configuration.listenPort): \(error)")
            return 1
        }
    }
}
