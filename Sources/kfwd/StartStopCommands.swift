import ArgumentParser
import ConfigStore
import Daemon
import Foundation

/// The aliases a start or stop names, or `--all`.
struct ForwardSelection: ParsableArguments {
    @Argument(help: "Aliases of saved forwards.")
    var aliases: [String] = []

    @Flag(help: "Every saved forward.")
    var all = false

    func validate() throws {
        if self.aliases.isEmpty == !self.all { throw ValidationError("name the forwards (kfwd list shows them), or give --all, not both") }
    }

    var request: ControlRequest { ControlRequest(aliases: self.aliases, all: self.all) }
}

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Start saved forwards in the daemon (started in the background when none runs)."
    )

    @OptionGroup var selection: ForwardSelection

    func run() async throws {
        let client = ControlClient(paths: DaemonPaths())
        do {
            try await client.ensureDaemon(executable: Terminal.executable)
            try report(try await client.start(self.selection.request), done: "Started", unchanged: "already running")
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
    }
}

struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop forwards the daemon runs.")

    @OptionGroup var selection: ForwardSelection

    func run() async throws {
        let client = ControlClient(paths: DaemonPaths())
        guard await client.status() != nil else {
            Terminal.line("No kfwd daemon runs: nothing is running to stop")
            return
        }
        do {
            try report(try await client.stop(self.selection.request), done: "Stopped", unchanged: "not running")
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
    }
}

/// Prints what a start or stop did; any error makes the command fail, after the rest is said.
private func report(_ result: ControlResult, done: String, unchanged: String) throws {
    for alias in result.done { Terminal.line("\(done) \(alias)") }
    for line in result.details { Terminal.line("  \(line)") }
    for alias in result.unchanged { Terminal.line("\(alias): \(unchanged)") }
    for error in result.errors { Terminal.error(error) }
    if !result.errors.isEmpty { throw ExitCode.failure }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Whether the daemon runs, and what each saved forward is doing.")

    @Flag(help: "Print JSON: {\"daemon\": {\"pid\", \"running\"}, \"forwards\": [{\"alias\", \"status\", \"pods\", ...}]}.")
    var json = false

    func run() async throws {
        let store = try ConfigStore.forCLI()
        let report = try await ConfigStore.reporting { () async throws(ConfigStoreError) in try await ControlClient(paths: DaemonPaths()).report(store) }
        if self.json {
            try Terminal.json(report)
            return
        }
        Terminal.line(report.daemon.running ? "kfwd daemon: running (pid \(report.daemon.pid.map(String.init) ?? "?"))" : "kfwd daemon: not running")
        for forward in report.forwards {
            let pods = forward.pods.isEmpty ? "" : " -> \(forward.pods.joined(separator: ", "))"
            let error = forward.lastError.map { " (last error: \($0))" } ?? ""
            Terminal.line("  \(forward.alias): \(forward.status)\(pods)\(error)")
        }
    }
}
