import ArgumentParser
import ConfigStore
import ControlAPI
import Daemon
import Foundation

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "What the daemon's forwards did: state changes, pods, failed connections, relays.",
        discussion: """
            The daemon keeps its last 5000 lines in memory; all of them go to its output too \
            (daemon.log in the kfwd home when kfwd start started it, the journal under systemd).
            """
    )

    @Argument(help: "Only this forward's lines.")
    var alias: String?

    @Flag(name: .shortAndLong, help: "Keep printing new lines until Ctrl-C or the daemon stops.")
    var follow = false

    func run() async throws {
        if let alias = self.alias {
            let store = try ConfigStore.forCLI()
            guard try ConfigStore.reporting({ () throws(ConfigStoreError) in try store.forward(alias: alias) }) != nil else {
                Terminal.error("no forward is saved as '\(alias)' (kfwd list shows them)")
                throw ExitCode.failure
            }
        }
        let paths = DaemonPaths()
        let client = ControlClient(paths: paths)
        guard client.isListening() else {
            Terminal.error("no kfwd daemon runs (kfwd start starts one); what the last one said is in \(paths.log)")
            throw ExitCode.failure
        }
        do {
            try await client.logs(alias: self.alias, follow: self.follow) { entry in
                // All on standard output, as kubectl logs prints a container's.
                Terminal.line(entry.line)
            }
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        } catch {
            // The connection broke mid-stream: the daemon died (a clean stop ends the stream).
            Terminal.error("the daemon stopped answering (\(error)); kfwd status tells whether it runs, and \(paths.log) has what it said")
            throw ExitCode.failure
        }
    }
}
