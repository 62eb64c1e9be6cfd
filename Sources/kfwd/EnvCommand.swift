import ArgumentParser
import ConfigStore
import ControlAPI
import Daemon
import Foundation
import UnixSignals

extension ForwardEnvironment.Format: ExpressibleByArgument {}

/// `kfwd env`: where the daemon's running forwards listen, as environment variables; with
/// `--write FILE`, the file kept in step as forwards start, stop and move.
struct EnvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Print where the running forwards listen as environment variables (ALIAS_HOST, ALIAS_PORT, ALIAS_URL), or keep a file of them in step.",
        discussion: """
            kfwd env > .env                       the daemon's running forwards, as dotenv
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

    @Option(help: "Write FILE now and again after every change (atomically), until Ctrl-C or the daemon stops.")
    var write: String?

    func run() async throws {
        let store = try ConfigStore.forCLI()
        let tagged: Set<String>? =
            self.tags.isEmpty
            ? nil
            : Set(try ConfigStore.reporting { () throws(ConfigStoreError) in try store.forwards() }
                .filter { $0.isTagged(withAnyOf: self.tags) }.map(\.alias))
        let client = ControlClient(paths: DaemonPaths())
        let environment = { @Sendable () async throws -> ForwardEnvironment in
            let report = try await ConfigStore.reporting { () async throws(ConfigStoreError) in try await client.report(store) }
            return ForwardEnvironment(report, prefix: self.prefix) { tagged?.contains($0) ?? true }
        }
        guard let path = self.write else {
            FileHandle.standardOutput.write(Data(try await environment().render(self.format).utf8))
            return
        }
        guard await client.status() != nil else {
            Terminal.error("no kfwd daemon runs, so there is nothing to keep \(path) in step with: `kfwd start ALIAS` starts one")
            throw ExitCode.failure
        }
        let first = try await environment()
        try self.write(first, to: path)
        Terminal.line("Wrote \(path) (\(Self.count(first))); keeping it in step until Ctrl-C")
        // Each event is a moment something may have moved; the newest is enough to look again.
        let (changes, changed) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { changed.finish() }
                do { try await client.events { _ in changed.yield() } } catch is CancellationError {}
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
            do {
                try await group.next()
                try await group.next()
            } catch is CancellationError {}
            group.cancelAll()
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
