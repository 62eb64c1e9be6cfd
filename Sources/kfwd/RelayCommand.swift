import ArgumentParser
import RelayServer

/// `kfwd relay`: the relay of the relay image, run by kfwd itself, so that `kfwd demo` (and
/// KubeSim image mappings) can serve relay pods without a separate binary.
struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Run kfwd's in-cluster relay here (what the relay image runs; configured by its KFWD_RELAY_* environment).",
        shouldDisplay: false
    )

    @Option(help: "HOST:PORT to listen on (default: $KFWD_RELAY_LISTEN, else 127.0.0.1:9527).")
    var listen: String?

    func run() async throws {
        let status = await RelayServer.runAsProcess(arguments: self.listen.map { ["--listen", $0] } ?? [])
        if status != 0 { throw ExitCode(status) }
    }
}
