import ArgumentParser
import ConfigStore
import ControlAPI

struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove saved forwards (all the named ones, or none).")

    @Argument(help: "Aliases of saved forwards.")
    var aliases: [String]

    func validate() throws {
        if self.aliases.isEmpty { throw ValidationError("name the forwards to remove, e.g. `kfwd rm web`") }
    }

    func run() async throws {
        let store = try ConfigStore.forCLI()
        try ConfigStore.reporting { () throws(ConfigStoreError) in try store.remove(aliases: self.aliases) }
        await ControlClient(paths: DaemonPaths()).storeChanged()
        Terminal.line("Removed \(self.aliases.joined(separator: ", "))")
    }
}
