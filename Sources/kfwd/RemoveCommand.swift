import ArgumentParser
import ConfigStore

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove saved forwards (all the named ones, or none).")

    @Argument(help: "Aliases of saved forwards.")
    var aliases: [String]

    func validate() throws {
        if self.aliases.isEmpty { throw ValidationError("name the forwards to remove, e.g. `kfwd rm web`") }
    }

    func run() throws {
        let store = try ConfigStore.forCLI()
        try ConfigStore.reporting { () throws(ConfigStoreError) in try store.remove(aliases: self.aliases) }
        Terminal.line("Removed \(self.aliases.joined(separator: ", "))")
    }
}
