import ArgumentParser
import ConfigStore
import ControlAPI
import Daemon
import Forwarding
import Foundation
import KubeClient
import Logging
import UnixSignals

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run a set of forwards in this process: the repository's kfwd.yaml, a kftray JSON file, or the saved forwards.",
        discussion: """
            In a repository (or any folder of it) with a kfwd.yaml or .kfwd.yaml at its root, runs the forwards \
            it lists and follows the file: edits are applied as they are saved (added forwards start, removed \
            ones stop, changed ones restart, the others keep their connections); a file that does not parse is \
            reported with its line and column and the forwards stay as they were. Elsewhere, or with --saved, \
            runs the forwards saved with kfwd add and kfwd import.

            FILE is kftray's export format (a JSON array of configs), used unchanged. Entries of \
            workload_type service, pod and proxy run (UDP and proxy through a kfwd relay pod in the namespace); \
            an entry kfwd cannot run, or a field it does not know, \
            gets its own message and the others still run. Each forward is independent: one that cannot \
            start (a busy port, a missing kubeconfig context) says why and retries with backoff; a missing \
            Service is waited for. Forwards in one namespace share one watch per kind. Stops on Ctrl-C or \
            SIGTERM.
            """
    )

    @Option(name: .shortAndLong, help: "kftray JSON config file (default: the repository's kfwd.yaml, else the saved forwards).")
    var config: String?

    @Flag(help: "Run the saved forwards, even in a repository with a kfwd.yaml.")
    var saved = false

    @Argument(help: "Run only the forwards with these aliases (default: all).")
    var aliases: [String] = []

    @Option(name: .customLong("pod-wait"), help: "Seconds a new connection waits for a ready pod.")
    var podWait: Double = 30

    @OptionGroup(title: "Relay (for UDP and proxy entries)")
    var relay: RelayOptions

    @OptionGroup var network: NetworkOptions

    func validate() throws {
        if self.podWait < 0 { throw ValidationError("--pod-wait \(self.podWait) must be 0 or more seconds") }
    }

    /// The project file to run and follow: none with --config or --saved.
    private var projectPath: String? {
        guard self.config == nil, !self.saved else { return nil }
        return ProjectFile.find(from: FileManager.default.currentDirectoryPath)
    }

    func run() async throws {
        let project = self.projectPath
        let specs = try self.loadSpecs(project: project)
        var logger = Logger(label: "kfwd")
        logger.logLevel = .warning
        let stored = self.network.seconds == nil ? try? ConfigStore().settings().networkSettleSeconds : nil
        let supervisor = Supervisor(
            cache: KubeClientCache(logger: logger), relaySettings: self.relay.settings, network: self.network.settings(stored: stored), logger: logger
        )
        let updates = supervisor.updates()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await StatusPrinter { supervisor.spec($0) }.print(updates) }
            if let project {
                group.addTask { await self.follow(project, supervisor) }
                group.addTask { await Self.publish(project, supervisor) }
            }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
                ShutdownWatchdog.arm()
                supervisor.shutdown()
            }
            for spec in specs {
                do throws(ForwardError) { try supervisor.start(spec) } catch { Terminal.error("\(spec.alias): \(error.message)") }
            }
            // Not cancelled: it returns after the shutdown, once the relay pods are deleted.
            await supervisor.run()
            group.cancelAll()
        }
    }

    /// Keeps the project's ``ProjectRun`` in step with the forwards' states and sockets (not
    /// their counters: every connection is an update), for `kfwd env`; removed when cancelled.
    private static func publish(_ project: String, _ supervisor: Supervisor) async {
        let paths = DaemonPaths()
        var published = ProjectRun(project: project, forwards: [])
        for await status in supervisor.updates() {
            // Only the forward that changed is looked at: this runs for every connection.
            var run = published
            let forward = ProjectRun.Forward(status)
            if let index = run.forwards.firstIndex(where: { $0.alias == status.alias }) { run.forwards[index] = forward } else { run.forwards.append(forward) }
            guard run != published else { continue }
            do { try run.write(paths: paths) } catch { Terminal.warning("cannot tell kfwd env where the forwards listen: \(error)") }
            published = run
        }
        published.remove(paths: paths)
    }

    private struct Entry {
        /// How messages name it: `FILE entry N (ALIAS)`, or `forward ALIAS` when saved.
        let name: String
        let forward: Forward
        let unknownFields: [String]
    }

    private enum Forward {
        case kftray(Result<KftrayConfig, KftrayFileError>)
        case saved(StoredForward)
        case project(ProjectFile.Forward)
    }

    /// The entries of the file, or the saved forwards.
    private func entries(project: String?) throws -> (source: String, entries: [Entry]) {
        if let project {
            let file: ProjectFile
            do throws(ProjectFileError) { file = try ProjectFile.load(project) } catch {
                Terminal.error(error.message)
                throw ExitCode.failure
            }
            return (project, file.forwards.map { Entry(name: "\(project) forward \($0.alias)", forward: .project($0), unknownFields: []) })
        }
        guard let path = self.config else {
            let forwards: [StoredForward]
            do { forwards = try ConfigStore().forwards() } catch {
                Terminal.error(error.description)
                throw ExitCode.failure
            }
            return ("the saved forwards", forwards.map { Entry(name: "forward \($0.alias)", forward: .saved($0), unknownFields: []) })
        }
        let file: KftrayFile
        do {
            file = try KftrayFile(data: try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch let error as KftrayFileError {
            Terminal.error("\(path): \(error.message)")
            throw ExitCode.failure
        } catch {
            Terminal.error("cannot read \(path): \((error as NSError).localizedDescription)")
            throw ExitCode.failure
        }
        return (path, file.entries.map { entry in
            let alias = (try? entry.config.get())?.effectiveAlias ?? ""
            return Entry(name: "\(path) entry \(entry.index) (\(alias))", forward: .kftray(entry.config), unknownFields: entry.unknownFields)
        })
    }

    /// The runnable entries, each problem reported by entry and field.
    private func loadSpecs(project: String?) throws -> [ForwardSpec] {
        let (source, entries) = try self.entries(project: project)
        let podWait = Duration.milliseconds(Int(self.podWait * 1000))
        // Saved forwards that name no protocol take the `transport` setting, as in the daemon.
        let transport = self.config == nil && project == nil ? (try? ConfigStore().settings().transport) ?? "auto" : "auto"
        var specs: [ForwardSpec] = []
        var aliases: [String] = []
        for entry in entries {
            let alias: String
            var ignored: [String] = []
            let native: () throws(ForwardError) -> ForwardConfig
            switch entry.forward {
            case .kftray(.failure(let error)):
                Terminal.error("\(source): \(error.message); the entry is skipped")
                continue
            case .kftray(.success(let config)):
                alias = config.effectiveAlias
                ignored = config.ignoredSettings
                native = { () throws(ForwardError) in try ForwardConfig(kftray: config) }
            case .saved(let forward):
                alias = forward.alias
                native = { () throws(ForwardError) in try forward.native() }
            case .project(let forward):
                alias = forward.alias
                native = { () throws(ForwardError) in forward.config }
            }
            aliases.append(alias)
            guard self.aliases.isEmpty || self.aliases.contains(alias) else { continue }
            if !entry.unknownFields.isEmpty {
                Terminal.warning("\(entry.name): unknown \(entry.unknownFields.count == 1 ? "field" : "fields") \(entry.unknownFields.joined(separator: ", ")) ignored")
            }
            for setting in ignored { Terminal.warning("\(entry.name): \(setting) is ignored") }
            do throws(ForwardError) {
                let spec = try native().forwardSpec(alias: alias, podWait: podWait, transport: transport)
                guard !specs.contains(where: { $0.alias == spec.alias }) else {
                    Terminal.error("\(entry.name): another entry already has the alias '\(spec.alias)'; give this one its own alias")
                    continue
                }
                specs.append(spec)
            } catch {
                Terminal.error("\(entry.name): \(error.message)")
            }
        }
        for alias in self.aliases where !aliases.contains(alias) {
            Terminal.error("\(source) has no forward with the alias '\(alias)' (it has: \(aliases.joined(separator: ", ")))")
            throw ExitCode.failure
        }
        guard !specs.isEmpty else {
            Terminal.error("\(source): no entry can run")
            throw ExitCode.failure
        }
        return specs
    }

    /// Applies each saved edit of the project file to the running forwards, until cancelled.
    private func follow(_ path: String, _ supervisor: Supervisor) async {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let podWait = Duration.milliseconds(Int(self.podWait * 1000))
        do {
            try await FileWatcher(paths: [path], what: name).run {
                let file: ProjectFile
                do throws(ProjectFileError) { file = try ProjectFile.load(path) } catch {
                    Terminal.error("\(error.message); the forwards keep running as they were")
                    return
                }
                var wanted: [ForwardSpec] = []
                for forward in file.forwards where self.aliases.isEmpty || self.aliases.contains(forward.alias) {
                    do throws(ForwardError) { wanted.append(try forward.config.forwardSpec(alias: forward.alias, podWait: podWait)) } catch {
                        Terminal.error("\(path) forward \(forward.alias): \(error.message)")
                    }
                }
                let running = supervisor.list().filter { $0.state != .stopped }.compactMap { supervisor.spec($0.alias) }
                let changes = SpecChanges.between(running: running, wanted: wanted)
                guard !changes.isEmpty else { return }
                for alias in changes.stop { await supervisor.stop(alias) }
                for spec in changes.reload { supervisor.reload(spec) }
                for spec in changes.start {
                    do throws(ForwardError) { try supervisor.start(spec) } catch { Terminal.error("\(spec.alias): \(error.message)") }
                }
                let said = [("started", changes.start.map(\.alias)), ("stopped", changes.stop), ("restarted", changes.reload.map(\.alias))]
                    .filter { !$0.1.isEmpty }.map { "\($0.0) \($0.1.joined(separator: ", "))" }
                Terminal.line("\(name) changed: \(said.joined(separator: "; "))")
            }
        } catch where !Task.isCancelled {
            Terminal.warning("\(error): edits to \(name) apply at the next kfwd up")
        } catch {}
    }
}
