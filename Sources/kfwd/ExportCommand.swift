import ArgumentParser
import ConfigStore
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the saved forwards as a kftray JSON export (to FILE, else to standard output)."
    )

    @Argument(help: "Where to write (replaced whole, never half-written).")
    var file: String?

    func run() throws {
        let store = try ConfigStore.forCLI()
        let (data, left) = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.exportKftray() }
        for alias in left {
            Terminal.warning("\(alias) is left out: kftray's format cannot hold it (a Deployment, a pod by name, several ports, or kfwd's own settings)")
        }
        guard let file = self.file else {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return
        }
        do { try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: file), options: .atomic) } catch {
            Terminal.error("cannot write \(file): \((error as NSError).localizedDescription)")
            throw ExitCode.failure
        }
    }
}
