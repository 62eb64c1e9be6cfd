import ArgumentParser
import ConfigStore
import ControlAPI
import Foundation

/// `kfwd sync`: shared configs from git repositories, each imported as a group replaced on each
/// pull.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Keep forwards from git repositories: each source is a group, replaced (not merged) on every pull.",
        subcommands: [Pull.self, Add.self, List.self, Remove.self],
        defaultSubcommand: Pull.self
    )

    static var home: String { StoreLocation.directory() }

    /// Pulls `source` and saves its files' forwards as its group; says what changed.
    static func pull(_ source: SyncSource, store: ConfigStore) async throws {
        let commit: String
        let change: ConfigStore.GroupChange
        do throws(ConfigStoreError) {
            commit = try await source.pull(home: Self.home)
            change = try store.replaceGroup(source.name, with: try source.forwards(home: Self.home))
        } catch {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
        Terminal.line("\(source.name): at \(commit): \(change.summary)")
    }

    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull every source (or those named) and replace their groups.")

        @Argument(help: "Sources to pull (default: all).")
        var names: [String] = []

        func run() async throws {
            let store = try ConfigStore.forCLI()
            let sources = SyncSource.all(home: SyncCommand.home)
            for name in self.names where !sources.contains(where: { $0.name == name }) {
                Terminal.error("no sync source is named '\(name)': kfwd sync list shows them")
                throw ExitCode.failure
            }
            if sources.isEmpty { Terminal.line("No sync source: kfwd sync add NAME GIT_URL adds one.") }
            for source in sources where self.names.isEmpty || self.names.contains(source.name) {
                try await SyncCommand.pull(source, store: store)
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Clone a repository and import its forwards as the group NAME.")

        @Argument(help: "The source's name (and its group's).")
        var name: String

        @Argument(help: "The repository, as git clones it (https://, ssh, file://).")
        var url: String

        @Option(help: "A file in the repository: kfwd.yaml format, or kftray JSON (.json); repeatable.")
        var path: [String] = ["kfwd.yaml"]

        @Option(help: "A branch or tag (default: the remote's default branch).")
        var ref: String?

        func run() async throws {
            let store = try ConfigStore.forCLI()
            let source = SyncSource(name: self.name, url: self.url, paths: self.path, ref: self.ref)
            do { try await source.add(home: SyncCommand.home) } catch {
                Terminal.error(error.description)
                throw ExitCode.failure
            }
            try await SyncCommand.pull(source, store: store)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The sync sources.")

        func run() throws {
            for source in SyncSource.all(home: SyncCommand.home) {
                Terminal.line("\(source.name)  \(source.url)  \(source.paths.joined(separator: ","))\(source.ref.map { "  @\($0)" } ?? "")")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Forget a source, its clone and its group's saved forwards.")

        @Argument(help: "The source's name.")
        var name: String

        func run() async throws {
            guard let source = SyncSource.all(home: SyncCommand.home).first(where: { $0.name == self.name }) else {
                Terminal.error("no sync source is named '\(self.name)': kfwd sync list shows them")
                throw ExitCode.failure
            }
            let store = try ConfigStore.forCLI()
            let members = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.members(of: source.name) }
            let client = ControlClient(paths: DaemonPaths())
            if !members.isEmpty, await client.status() != nil { _ = try? await client.stop(ControlRequest(aliases: members, all: false)) }
            _ = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.replaceGroup(source.name, with: []) }
            source.remove(home: SyncCommand.home)
            Terminal.line("Removed \(source.name) and its \(members.count) forward\(members.count == 1 ? "" : "s")")
        }
    }
}
