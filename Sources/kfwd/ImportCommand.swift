import ArgumentParser
import ConfigStore
import ControlAPI
import Foundation

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a kftray JSON export into the saved forwards, merging as kftray does.",
        discussion: "All or nothing: one invalid entry, reported by entry and field, leaves the saved forwards as they were."
    )

    @Argument(help: "A kftray JSON export (an array of configs).")
    var file: String

    func run() async throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: self.file)) } catch {
            Terminal.error("cannot read \(self.file): \((error as NSError).localizedDescription)")
            throw ExitCode.failure
        }
        let store = try ConfigStore.forCLI()
        let summary = try ConfigStore.reporting { () throws(ConfigStoreError) in
            do throws(ConfigStoreError) { return try store.importKftray(data) } catch {
                throw ConfigStoreError(error.problems.map { "\(self.file): \($0)" } + ["\(self.file): nothing was imported"])
            }
        }
        await ControlClient(paths: DaemonPaths()).storeChanged()
        Terminal.line("Imported \(self.file): \(summary.added.count) added, \(summary.updated.count) updated, \(summary.unchanged.count) unchanged")
    }
}
