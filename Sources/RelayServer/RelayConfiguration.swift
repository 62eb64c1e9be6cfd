import NIOCore
import RelayProtocol

/// What a relay serves, read from its environment (how a pod spec configures it) and its
/// arguments (`--listen HOST:PORT` wins over the environment, for runs outside a container).
package struct RelayConfiguration: Sendable {
    /// The pod's loopback: port-forward reaches it there, and no other pod can.
    package var listenHost = "127.0.0.1"
    package var listenPort = 9527
    /// From the environment for a relay run by hand; nil for one kfwd deploys, which its owner
    /// claims (``RelayClaim``).
    var secret: String?
    var allowed: Set<RelayRule>
    /// With no client connected for this long the relay exits, so that a laptop that crashed or
    /// lost the cluster leaves nothing running for long.
    var idleExit: TimeAmount = .seconds(300)
    /// A UDP flow with no datagram either way for this long is closed, as conntrack forgets it.
    var flowIdle: TimeAmount = .seconds(120)
    /// A stream that has not sent its whole header by then is closed.
    var headerTimeout: TimeAmount = .seconds(10)

    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    static let environmentNames = (
        secret: "KFWD_RELAY_SECRET", targets: "KFWD_RELAY_TARGETS", listen: "KFWD_RELAY_LISTEN",
        idleExit: "KFWD_RELAY_IDLE_EXIT_SECONDS", flowIdle: "KFWD_RELAY_FLOW_IDLE_SECONDS"
    )

    package static func load(environment: (String) -> String?, arguments: [String]) throws(Invalid) -> RelayConfiguration {
        let names = Self.environmentNames
        let secret = environment(names.secret).flatMap { $0.isEmpty ? nil : $0 }
        if let secret, secret.utf8.count > 255 {
            throw Invalid(description: "\(names.secret) is \(secret.utf8.count) bytes long; at most 255 fit the relay header")
        }
        let allowed: Set<RelayRule>
        do {
            allowed = try RelayRule.parseList(environment(names.targets) ?? "")
        } catch {
            throw Invalid(description: "\(names.targets): \(error.message)")
        }
        var configuration = RelayConfiguration(secret: secret, allowed: allowed)
        var listen = environment(names.listen)
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--listen":
                guard let value = remaining.popFirst() else { throw Invalid(description: "--listen needs HOST:PORT") }
                listen = value
            default:
                throw Invalid(
                    description: "unknown argument \"\(argument)\"; kfwd-relay takes --listen HOST:PORT, --check or --version and reads the rest from its environment"
                )
            }
        }
        if let listen {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
                throw Invalid(description: "listen address \"\(listen)\" is not HOST:PORT")
            }
            configuration.listenHost = String(listen[..<colon]).trimmingBrackets
            configuration.listenPort = port
        }
        configuration.idleExit = try Self.seconds(environment(names.idleExit), name: names.idleExit) ?? configuration.idleExit
        configuration.flowIdle = try Self.seconds(environment(names.flowIdle), name: names.flowIdle) ?? configuration.flowIdle
        return configuration
    }

    private static func seconds(_ text: String?, name: String) throws(Invalid) -> TimeAmount? {
        guard let text else { return nil }
        guard let value = Double(text), value > 0 else {
            throw Invalid(description: "\(name)=\"\(text)\" is not a positive number of seconds")
        }
        return .nanoseconds(Int64(value * 1e9))
    }
}

extension String {
    fileprivate var trimmingBrackets: String {
        self.hasPrefix("[") && self.hasSuffix("]") ? String(self.dropFirst().dropLast()) : self
    }
}
