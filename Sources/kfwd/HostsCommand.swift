import ArgumentParser
import ConfigStore
import Foundation
import Subprocess

#if canImport(Glibc)
import Glibc
#endif

/// `kfwd hosts`: the forwards' hostnames in one managed block of the hosts file. `show` says
/// what `apply` would write; `apply` and `clear` change only that block (as root: `sudo`).
struct HostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts",
        abstract: "Write the forwards' hostnames (kfwd add --hostname, hostnames: in kfwd.yaml) in one block of the hosts file.",
        discussion: """
            kfwd hosts                show what apply would write, and whether the file has it
            sudo kfwd hosts apply     write the block (the rest of the file untouched byte for byte, a backup beside it)
            sudo kfwd hosts clear     remove the block
            The file is /etc/hosts, or KFWD_HOSTS_FILE. Under sudo, the invoking user's saved forwards are read.
            """
    )

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case show, apply, clear
    }

    @Argument(help: "show, apply or clear.")
    var action: Action = .show

    /// The entries as JSON: what a root kfwd asks of the invoking user's (see ``entries()``).
    @Flag(help: .hidden)
    var printEntries = false

    private var path: String {
        ProcessInfo.processInfo.environment["KFWD_HOSTS_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/hosts"
    }

    /// The saved forwards' and this repository's project file's hostnames, by address. Under
    /// sudo the forwards are the invoking user's: a kfwd run as that user reads them, so that
    /// root never opens (and leaves root-owned files in) their store.
    private func entries() async throws -> [HostsFile.Entry] {
        let environment = ProcessInfo.processInfo.environment
        if getuid() == 0, environment["KFWD_HOME"] == nil, let user = environment["SUDO_USER"], let home = Self.home(of: user) {
            let result = try await Subprocess.run(
                .name("runuser"), arguments: ["-u", user, "--", Terminal.executable, "hosts", "--print-entries"],
                environment: .inherit.updating(["HOME": home, "XDG_CONFIG_HOME": nil]), output: .string(limit: 1 << 20), error: .string(limit: 1 << 16)
            )
            guard result.terminationStatus.isSuccess, let data = result.standardOutput.data(using: .utf8),
                let entries = try? JSONDecoder().decode([EntryJSON].self, from: data)
            else {
                Terminal.error("cannot read \(user)'s forwards: \(result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))")
                throw ExitCode.failure
            }
            return entries.map { HostsFile.Entry(address: $0.address, names: $0.names) }
        }
        return try self.localEntries()
    }

    private struct EntryJSON: Codable {
        let address: String
        let names: [String]
    }

    private func localEntries() throws -> [HostsFile.Entry] {
        var named: [(alias: String, config: ForwardConfig)] = []
        do {
            let store = try ConfigStore()
            named += try store.forwards().compactMap { forward in (try? forward.native()).map { (forward.alias, $0) } }
        } catch {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
        if let project = ProjectFile.find(from: FileManager.default.currentDirectoryPath) {
            do throws(ProjectFileError) { named += try ProjectFile.load(project).forwards.map { ($0.alias, $0.config) } } catch {
                Terminal.error(error.message)
                throw ExitCode.failure
            }
        }
        var byAddress: [String: [String]] = [:]
        var order: [String] = []
        for (alias, config) in named where !config.hostnames.isEmpty {
            let address = config.hostsAddress(alias: alias)
            if byAddress[address] == nil { order.append(address) }
            byAddress[address, default: []] += config.hostnames.filter { !(byAddress[address] ?? []).contains($0) }
        }
        return order.map { HostsFile.Entry(address: $0, names: byAddress[$0] ?? []) }
    }

    private static func home(of user: String) -> String? {
        guard let entry = getpwnam(user), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }

    func run() async throws {
        if self.printEntries {
            let entries = try self.localEntries().map { EntryJSON(address: $0.address, names: $0.names) }
            FileHandle.standardOutput.write(try JSONEncoder().encode(entries))
            return
        }
        let path = self.path
        let original = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let wanted = HostsFile.rendered(original, entries: self.action == .clear ? [] : try await self.entries())
        switch self.action {
        case .show:
            let block = HostsFile.rendered("", entries: try await self.entries())
            Terminal.line(block.isEmpty ? "No forward has a hostname (kfwd add --hostname NAME)." : block.trimmingCharacters(in: .newlines))
            Terminal.line(wanted == original ? "\(path) has it." : "\(path) differs: `sudo kfwd hosts apply` writes it.")
        case .apply, .clear:
            do {
                let changed = try HostsFile.write(wanted, to: path)
                Terminal.line(changed ? "Wrote \(path) (the previous one is \(path).kfwd-backup)" : "\(path) already has it")
            } catch {
                Terminal.error(error.description)
                throw ExitCode.failure
            }
        }
    }
}
