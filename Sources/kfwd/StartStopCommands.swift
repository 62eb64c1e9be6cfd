import ArgumentParser
import ConfigStore
import ControlAPI
import Daemon
import Foundation

/// The aliases a start or stop names, or `--all`.
struct ForwardSelection: ParsableArguments {
    @Argument(help: "Aliases of saved forwards.")
    var aliases: [String] = []

    @Flag(help: "Every saved forward.")
    var all = false

    @Option(name: .customLong("tag"), help: "The saved forwards with this tag (repeatable: any of them).")
    var tags: [String] = []

    @Option(help: "The forwards of this group (a repository's, saved with kfwd start --project).")
    var group: String?

    @Flag(help: "This repository's kfwd.yaml, as the group named after the repository (kfwd start saves it first).")
    var project = false

    func validate() throws {
        let ways = [!self.aliases.isEmpty, self.all, !self.tags.isEmpty, self.group != nil, self.project].filter { $0 }.count
        if ways != 1 { throw ValidationError("name the forwards (kfwd list shows them), or give --all, --tag TAG, --group GROUP or --project: one of these") }
    }

    /// This repository's project file.
    func projectFile() throws -> ProjectFile {
        guard let path = ProjectFile.find(from: FileManager.default.currentDirectoryPath) else {
            Terminal.error("no kfwd.yaml here or above, up to the repository's root: `kfwd init` writes one")
            throw ExitCode.failure
        }
        do throws(ProjectFileError) { return try ProjectFile.load(path) } catch {
            Terminal.error(error.message)
            throw ExitCode.failure
        }
    }

    /// The request: tags, a group or the project resolved to the saved forwards they select.
    func request() throws -> ControlRequest {
        let projectGroup = self.project ? try self.projectFile().name : nil
        if let group = self.group ?? projectGroup {
            let store = try ConfigStore.forCLI()
            let members = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.members(of: group) }
            guard !members.isEmpty else {
                Terminal.error("no saved forward is in group \(group)\(self.project ? ": `kfwd start --project` saves this repository's" : "")")
                throw ExitCode.failure
            }
            return ControlRequest(aliases: members, all: false)
        }
        guard !self.tags.isEmpty else { return ControlRequest(aliases: self.aliases, all: self.all) }
        let store = try ConfigStore.forCLI()
        let saved = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.forwards() }
        let tagged = saved.filter { $0.isTagged(withAnyOf: self.tags) }.map(\.alias)
        guard !tagged.isEmpty else {
            let known = Set(saved.flatMap(\.tags)).sorted()
            Terminal.error("no saved forward has the tag \(self.tags.map { "'\($0)'" }.joined(separator: " or ")) (tags in use: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            throw ExitCode.failure
        }
        return ControlRequest(aliases: tagged, all: false)
    }

    /// Starts the daemon when none runs, unless every alias named is unknown: a typo must not
    /// leave a new daemon behind.
    func ensureDaemon(_ client: ControlClient) async throws {
        guard await client.status() == nil else { return }
        if !self.aliases.isEmpty {
            let store = try ConfigStore.forCLI()
            let saved = Set(try ConfigStore.reporting { () throws(ConfigStoreError) in try store.forwards() }.map(\.alias))
            if !self.aliases.contains(where: saved.contains) {
                for alias in self.aliases { Terminal.error(ControlResult.unknownAlias(alias)) }
                throw ExitCode.failure
            }
        }
        try await client.ensureDaemon(executable: Terminal.executable)
    }
}

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Start saved forwards in the daemon (started in the background when none runs)."
    )

    @OptionGroup var selection: ForwardSelection

    func run() async throws {
        let client = ControlClient(paths: DaemonPaths())
        do {
            if self.selection.project {
                try await self.startProject(client)
                return
            }
            let request = try self.selection.request()
            try await self.selection.ensureDaemon(client)
            try report(try await client.start(request), done: "Started", unchanged: "already running")
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
    }

    /// Saves this repository's kfwd.yaml as its group (the group's forwards the file no longer
    /// lists are stopped and removed), then starts the new and unchanged ones and restarts the
    /// changed ones with their new spec.
    private func startProject(_ client: ControlClient) async throws {
        let file = try self.selection.projectFile()
        let store = try ConfigStore.forCLI()
        let forwards = file.forwards.map { ($0.alias, $0.config) }
        let leaving = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.leaving(file.name, for: forwards) }
        if !leaving.isEmpty, await client.status() != nil {
            try report(try await client.stop(ControlRequest(aliases: leaving, all: false)), done: "Stopped", unchanged: "not running")
        }
        let change = try ConfigStore.reporting { () throws(ConfigStoreError) in
            try store.replaceGroup(file.name, with: forwards)
        }
        Terminal.line("Group \(file.name) saved from \(file.path): \(change.summary)")
        guard !file.forwards.isEmpty else { return }
        try await client.ensureDaemon(executable: Terminal.executable)
        let starting = change.added + change.unchanged
        if !starting.isEmpty { try report(try await client.start(ControlRequest(aliases: starting, all: false)), done: "Started", unchanged: "already running") }
        if !change.changed.isEmpty { try report(try await client.restart(ControlRequest(aliases: change.changed, all: false)), done: "Restarted", unchanged: "unchanged") }
    }
}

struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop forwards the daemon runs.")

    @OptionGroup var selection: ForwardSelection

    func run() async throws {
        let client = ControlClient(paths: DaemonPaths())
        guard await client.status() != nil else {
            Terminal.line("No kfwd daemon runs: nothing is running to stop")
            return
        }
        do {
            try report(try await client.stop(try self.selection.request()), done: "Stopped", unchanged: "not running")
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
    }
}

/// Prints what a start or stop did; any error makes the command fail, after the rest is said.
private func report(_ result: ControlResult, done: String, unchanged: String) throws {
    for alias in result.done { Terminal.line("\(done) \(alias)") }
    for line in result.details { Terminal.line("  \(line)") }
    for alias in result.unchanged { Terminal.line("\(alias): \(unchanged)") }
    for error in result.errors { Terminal.error(error) }
    if !result.errors.isEmpty { throw ExitCode.failure }
}

struct RestartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart", abstract: "Restart forwards in the daemon: ports and sessions closed and opened again (stopped ones start)."
    )

    @OptionGroup var selection: ForwardSelection

    func run() async throws {
        let client = ControlClient(paths: DaemonPaths())
        do {
            let request = try self.selection.request()
            try await self.selection.ensureDaemon(client)
            try report(try await client.restart(request), done: "Restarted", unchanged: "unchanged")
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
    }
}

/// `-o json`, as kubectl spells it.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Whether the daemon runs, and what each saved forward is doing (with --watch: every change as it happens)."
    )

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    @Flag(help: .hidden)
    var json = false

    @Flag(
        name: .shortAndLong,
        help: "Follow the daemon's event stream: a line per change; with -o json one object per line with forward, state, reason, code, pods and time."
    )
    var watch = false

    func run() async throws {
        let asJSON = self.json || self.output == .json
        if self.watch {
            try await self.follow(json: asJSON)
            return
        }
        let store = try ConfigStore.forCLI()
        let report = try await ConfigStore.reporting { () async throws(ConfigStoreError) in try await ControlClient(paths: DaemonPaths()).report(store) }
        if asJSON {
            try Terminal.json(report)
            return
        }
        Terminal.line(report.daemon.running ? "kfwd daemon: running (pid \(report.daemon.pid.map(String.init) ?? "?"))" : "kfwd daemon: not running")
        for forward in report.forwards {
            Terminal.line("  \(Self.describe(alias: forward.alias, state: forward.status, reason: forward.reason, pods: forward.pods))")
            if let error = forward.lastError, error != forward.reason { Terminal.line("    last error: \(error)") }
            for (pod, why) in forward.failingPods.sorted(by: { $0.key < $1.key }) { Terminal.line("    \(pod) fails its probe: \(why)") }
        }
    }

    /// `web: running -> web-1, web-2`, `db: waiting: service shop/db does not exist`.
    static func describe(alias: String, state: String, reason: String?, pods: [String]) -> String {
        let why = reason.map { ": \($0)" } ?? ""
        let to = pods.isEmpty ? "" : " -> \(pods.joined(separator: ", "))"
        return "\(alias): \(state)\(why)\(to)"
    }

    /// Prints the event stream until the daemon stops or Ctrl-C: every record as JSON, or a
    /// human line each time a forward's state, reason or pods change.
    private func follow(json: Bool) async throws {
        let client = ControlClient(paths: DaemonPaths())
        guard await client.status() != nil else {
            Terminal.error("no kfwd daemon runs, so there is nothing to watch: `kfwd start ALIAS` starts one")
            throw ExitCode.failure
        }
        var shown: [String: String] = [:]
        do {
            try await client.events { record in
                if json {
                    if let data = try? StatusReport.compactEncoder.encode(record) { Terminal.line(String(decoding: data, as: UTF8.self)) }
                    return
                }
                let line = Self.describe(alias: record.forward, state: record.state, reason: record.reason, pods: record.pods)
                guard shown[record.forward] != line else { return }
                shown[record.forward] = line
                Terminal.line("\(record.time.formatted(.iso8601)) \(line)")
            }
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        } catch is CancellationError {
            return
        }
        Terminal.line("the kfwd daemon stopped")
    }
}
