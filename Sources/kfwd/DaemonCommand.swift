import ArgumentParser
import ControlAPI
import Daemon
import Foundation
import Logging

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the kfwd daemon in the foreground (kfwd start runs one in the background when none runs).",
        discussion: """
            One per user (a lock in the kfwd home). It owns every forward started with kfwd start, serves the \
            control socket ($XDG_RUNTIME_DIR/kfwd.sock, else in the kfwd home; mode 0600), records each \
            forward's state in the store, and on start marks stopped what a daemon that died left running. \
            SIGTERM or Ctrl-C stop its forwards (and relays) and end it. deploy/kfwd.service runs it under systemd.
            """
    )

    @Option(name: .customLong("detach-log"), help: "Once ready, send all output to this file (how kfwd start runs it).")
    var detachLog: String?

    @Option(help: "The dashboard's port on 127.0.0.1 (0: any free port). Default: KFWD_DASHBOARD_PORT, else the dashboard_port setting (8787).")
    var dashboardPort: Int?

    @OptionGroup var network: NetworkOptions

    func validate() throws {
        if let port = try self.effectiveDashboardPort(), !(0...65535).contains(port) {
            throw ValidationError("--dashboard-port \(port) is not a port: use 0 to 65535")
        }
    }

    private func effectiveDashboardPort() throws -> Int? {
        if let port = self.dashboardPort { return port }
        guard let text = ProcessInfo.processInfo.environment["KFWD_DASHBOARD_PORT"], !text.isEmpty else { return nil }
        guard let port = Int(text) else { throw ValidationError("KFWD_DASHBOARD_PORT='\(text)' is not a port number") }
        return port
    }

    func run() async throws {
        let paths = DaemonPaths()
        var logger = Logger(label: "kfwd.daemon")
        logger.logLevel = .info
        let detachLog = self.detachLog
        var daemon = KfwdDaemon(paths: paths, logger: logger)
        daemon.dashboardPort = try self.effectiveDashboardPort()
        daemon.networkSettle = self.network.seconds
        do {
            try await daemon.run {
                Terminal.line("kfwd daemon ready (pid \(getpid()), socket \(paths.socket))")
                if let detachLog { Self.redirectOutput(to: detachLog) }
            }
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
    }

    /// Moves standard output and error to the log, so that the process that started the
    /// daemon can go away without the daemon's next line hitting a closed pipe.
    private static func redirectOutput(to path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return }
        dup2(descriptor, STDOUT_FILENO)
        dup2(descriptor, STDERR_FILENO)
        close(descriptor)
    }
}
