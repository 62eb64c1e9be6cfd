import ArgumentParser
import ConfigStore
import ControlAPI
import Daemon
import Foundation
import KubeClient
import UnixSignals

extension ForwardEnvironment.Format: ExpressibleByArgument {}

/// `kfwd env`: where the running forwards listen (the daemon's, and those of a `kfwd up`
/// running this repository's project file), as environment variables; with `--write FILE`, the
/// file kept in step as forwards start, stop and move.
struct EnvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Print where the running forwards listen as environment variables (ALIAS_HOST, ALIAS_PORT, ALIAS_URL), or keep a file of them in step.",
        discussion: """
            kfwd env > .env                       the running forwards (the daemon's, and this repository's kfwd up), as dotenv
            eval "$(kfwd env --format shell)"     exported into this shell
            kfwd env --write .env --tag shop      kept in step until Ctrl-C (docker compose --env-file .env)
            """
    )

    @Option(help: "dotenv, shell or json.")
    var format: ForwardEnvironment.Format = .dotenv

    @Option(help: "Put this before every name (e.g. KFWD_).")
    var prefix = ""

    @Option(name: .customLong("tag"), help: "Only the forwards with this tag (repeatable: any of them).")
    var tags: [String] = []

    @Option(help: "Only the forwards of this group (a repository's: its kfwd up, or what kfwd start --project saved).")
    var group: String?

    @Option(help: "Write FILE now and again after every change (atomically), until Ctrl-C.")
    var write: String?

    func run() async throws {
        let store = try ConfigStore.forCLI()
        let saved = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.forwards() }
        let paths = DaemonPaths()
        // This repository's project file: a kfwd up running it counts too.
        let projectPath = ProjectFile.find(from: FileManager.default.currentDirectoryPath)
        let project = projectPath.flatMap { try? ProjectFile.load($0) }
        // Each forward's tags and group, to choose by: the saved ones', and the project's.
        var labels = Dictionary(saved.map { ($0.alias, (tags: $0.tags, group: try? $0.native().group)) }, uniquingKeysWith: { $1 })
        for forward in project?.forwards ?? [] { labels[forward.alias] = (forward.config.tags, project?.name) }
        let chosen = labels
        let include = { @Sendable (alias: String) -> Bool in
            let label = chosen[alias]
            let tagged = self.tags.isEmpty || (label?.tags ?? []).contains(where: self.tags.contains)
            return tagged && (self.group == nil || label?.group == self.group)
        }
        let client = ControlClient(paths: paths)
        let environment = { @Sendable () async throws -> ForwardEnvironment in
            var report = try await ConfigStore.reporting { () async throws(ConfigStoreError) in try await client.report(store) }
            if let projectPath, let run = ProjectRun.current(of: projectPath, paths: paths) {
                // The project's own forwards first; a saved forward of the same alias yields.
                let own = Set(run.forwards.map(\.alias))
                report.forwards = run.report + report.forwards.filter { !own.contains($0.alias) }
            }
            return ForwardEnvironment(report, prefix: self.prefix, include: include)
        }
        guard let path = self.write else {
            FileHandle.standardOutput.write(Data(try await environment().render(self.format).utf8))
            return
        }
        let daemon = await client.status() != nil
        guard daemon || projectPath.flatMap({ ProjectRun.current(of: $0, paths: paths) }) != nil else {
            Terminal.error("no kfwd daemon runs, nor a kfwd up of this repository, so there is nothing to keep \(path) in step with: `kfwd start ALIAS` or `kfwd up` runs forwards")
            throw ExitCode.failure
        }
        let first = try await environment()
        try self.write(first, to: path)
        Terminal.line("Wrote \(path) (\(Self.count(first))); keeping it in step until Ctrl-C")
        // Each event is a moment something may have moved; the newest is enough to look again.
        let (changes, changed) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            if daemon {
                group.addTask {
                    do { try await client.events { _ in changed.yield() } } catch is CancellationError {}
                }
            }
            if let projectPath {
                // The project's kfwd up rewrites its file on every change of where it listens.
                try? FileManager.default.createDirectory(
                    atPath: (ProjectRun.path(for: projectPath, paths: paths) as NSString).deletingLastPathComponent, withIntermediateDirectories: true
                )
                group.addTask {
                    try await FileWatcher(paths: [ProjectRun.path(for: projectPath, paths: paths)], what: "kfwd up's forwards").run { changed.yield() }
                }
            }
            group.addTask {
                var written = first
                for await _ in changes {
                    let now = try await environment()
                    guard now != written else { continue }
                    try self.write(now, to: path)
                    Terminal.line("Wrote \(path) (\(Self.count(now)))")
                    written = now
                }
            }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
                throw CancellationError()
            }
            // Ctrl-C ends it (the daemon's stream ending, too, when only it was followed).
            do {
                try await group.next()
            } catch is CancellationError {}
            group.cancelAll()
            changed.finish()
        }
    }

    private static func count(_ environment: ForwardEnvironment) -> String {
        let forwards = environment.variables.count / 3
        return forwards == 1 ? "1 forward" : "\(forwards) forwards"
    }

    private func write(_ environment: ForwardEnvironment, to path: String) throws {
        do {
            try Data(environment.render(self.format).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            Terminal.error("cannot write \(path): \((error as NSError).localizedDescription)")
            throw ExitCode.failure
        }
    }
}
