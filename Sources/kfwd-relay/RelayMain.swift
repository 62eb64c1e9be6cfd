import RelayServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `kfwd-relay`: the in-cluster end of kfwd's UDP and `proxy` forwards (docs/relay-protocol.md),
/// the process of the relay image.
@main
enum RelayMain {
    static func main() async {
        exit(await RelayServer.runAsProcess(arguments: Array(CommandLine.arguments.dropFirst())))
    }
}
