import ArgumentParser
import ConfigStore
import ControlAPI
import Foundation
import TerminalUI

struct TUICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "A terminal UI over the daemon: every saved forward live, started, stopped, added and followed from the keyboard.",
        discussion: """
            It starts the daemon if none runs and draws from its live feed. q leaves the forwards \
            running in the daemon. ? lists the keys. NO_COLOR turns colours off; --ascii draws \
            without Unicode symbols.
            """
    )

    @Option(name: .customLong("group-by"), help: "Group the table by context or by first tag.")
    var grouping: ForwardsModel.Grouping = .context

    @Flag(help: "Draw with ASCII only (for terminals without UTF-8).")
    var ascii = false

    func run() async throws {
        let terminal: TerminalSession
        do {
            terminal = try TerminalSession()
        } catch let error as TUIError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
        let client = ControlClient(paths: DaemonPaths())
        do {
            try await client.ensureDaemon(executable: Terminal.executable)
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
        let store = try ConfigStore.forCLI()
        let environment = ProcessInfo.processInfo.environment
        let ascii = self.ascii || !(environment["LC_ALL"] ?? environment["LC_CTYPE"] ?? environment["LANG"] ?? "UTF-8").uppercased().contains("UTF")
        let runner = TUIRunner(
            terminal: terminal, client: client, store: store, grouping: self.grouping, ascii: ascii,
            colors: environment["NO_COLOR"].map(\.isEmpty) ?? true
        )
        terminal.enter()
        defer { terminal.leave() }
        try await runner.run()
    }
}

extension ForwardsModel.Grouping: ExpressibleByArgument {}
