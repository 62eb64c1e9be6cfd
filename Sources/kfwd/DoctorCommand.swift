import ArgumentParser
import ConfigStore
import Forwarding
import Foundation
import KubeClient
import Logging

/// `kfwd doctor`: for each saved forward named (all when none), or for a target and ports given
/// as `kfwd forward` takes them, every check a forward depends on, in order, one line each with
/// what was found and the fix for what fails. Exits 0 only when every forward would work.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what a forward needs (kubeconfig, credentials, API server, rights, pods, transports, local ports) and say how to fix it.",
        discussion: """
            kfwd doctor                      every saved forward
            kfwd doctor web db               saved forwards by alias
            kfwd doctor svc/web 8080:80 -n shop --kubeconfig dev.yaml
                                             a forward as kfwd forward takes it
            Exit status 0 when every forward would work, 1 otherwise.
            """
    )

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    @Argument(parsing: .allUnrecognized, help: "Aliases of saved forwards, or a target, ports and kfwd forward's options.")
    var arguments: [String] = []

    /// A target (`svc/web`) or `-l`: the arguments are a forward's, not aliases.
    private var describesAForward: Bool {
        self.arguments.first.map { $0.contains("/") || $0.hasPrefix("-") } ?? false || self.arguments.contains("-l")
    }

    private func forwards() throws -> [(spec: ForwardSpec, relay: RelaySettings)] {
        if self.describesAForward {
            let forward: ForwardCommand
            do { forward = try ForwardCommand.parse(self.arguments) } catch { throw ValidationError(ForwardCommand.message(for: error)) }
            return [(try forward.spec(), forward.relay.settings)]
        }
        let store = try ConfigStore.forCLI()
        let saved = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.forwards() }
        let image = (try? store.settings().relayImage) ?? nil
        let chosen = self.arguments.isEmpty ? saved : try self.arguments.map { alias in
            guard let forward = saved.first(where: { $0.alias == alias }) else {
                throw ValidationError("no saved forward is named '\(alias)': `kfwd list` shows them, or give a target and ports (kfwd doctor svc/web 8080:80)")
            }
            return forward
        }
        guard !chosen.isEmpty else { throw ValidationError("no saved forwards: name a target and ports, e.g. kfwd doctor svc/web 8080:80") }
        return try chosen.map { forward in
            do throws(ForwardError) {
                return (try forward.native().forwardSpec(alias: forward.alias), RelaySettings(image: image ?? RelaySettings.defaultImage))
            } catch {
                throw ValidationError("\(forward.alias): \(error.message)")
            }
        }
    }

    func run() async throws {
        let forwards = try self.forwards()
        var logger = Logger(label: "kfwd")
        logger.logLevel = .critical
        let cache = KubeClientCache(logger: logger)
        let reports = await withTaskGroup(of: Void.self) { group in
            group.addTask { await cache.run() }
            var reports: [DoctorReport] = []
            for forward in forwards {
                let report = await Doctor(spec: forward.spec, cache: cache, relaySettings: forward.relay).run()
                if self.output == .text { Self.print(report) }
                reports.append(report)
            }
            group.cancelAll()
            return reports
        }
        if self.output == .json { try Terminal.json(reports) }
        if !reports.allSatisfy(\.ok) { throw ExitCode.failure }
    }

    private static func print(_ report: DoctorReport) {
        Terminal.line(report.forward == report.target ? report.target : "\(report.forward) (\(report.target))")
        let width = report.checks.map(\.check.count).max() ?? 0
        for check in report.checks {
            let mark: String =
                switch check.status {
                case .pass: "ok  "
                case .warn: "warn"
                case .fail: "FAIL"
                case .skip: "-   "
                }
            Terminal.line("  \(mark) \(check.check.padding(toLength: width, withPad: " ", startingAt: 0))  \(check.detail)")
            if let fix = check.fix, check.status == .fail {
                Terminal.line("       \(String(repeating: " ", count: width))  fix: \(fix)")
            }
        }
    }
}
