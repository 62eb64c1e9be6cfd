import ArgumentParser
import ConfigStore
import Foundation

struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Show kfwd's settings, or change one.",
        discussion: """
            hold_seconds (a new connection's wait for a ready pod), transport (auto, tunnel, spdy, \
            websocket), relay_image (or 'default'), dashboard_port (0: any free port), \
            network_settle_seconds, sync_interval_minutes (0: only kfwd sync pulls). The daemon reads \
            them when it starts: restart it (kfwd daemon, or systemctl --user restart kfwd) for a \
            change to apply.
            """,
        subcommands: [Show.self, Set.self],
        defaultSubcommand: Show.self
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print every setting.")

        @Option(name: .shortAndLong, help: "Output format: table or json.")
        var output: ListCommand.Format = .table

        func run() async throws {
            let store = try ConfigStore.forCLI()
            let settings = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.settings() }
            switch self.output {
            case .json:
                try Terminal.json(settings)
            case .table:
                for (name, value) in settings.values { Terminal.line("\(name) = \(value)") }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change one setting.")

        @Argument(help: "The setting's name (kfwd settings lists them).")
        var name: String

        @Argument(help: "Its new value.")
        var value: String

        func run() async throws {
            let store = try ConfigStore.forCLI()
            try ConfigStore.reporting { () throws(ConfigStoreError) in
                var settings = try store.settings()
                try settings.set(self.name, to: self.value)
                try store.update(settings)
            }
            Terminal.line("\(self.name) = \(self.value) (the daemon uses it from its next start)")
        }
    }
}
