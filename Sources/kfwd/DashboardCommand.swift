import ArgumentParser
import ControlAPI
import Daemon
import Foundation

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Open the daemon's web dashboard (started in the background when no daemon runs).",
        discussion: """
            The dashboard listens on 127.0.0.1 (port: the dashboard_port setting, 8787 by default, or \
            KFWD_DASHBOARD_PORT when the daemon starts). The URL carries a token that changes at every \
            daemon start; the browser keeps it in a cookie after the first visit. /metrics serves \
            Prometheus metrics to the same token (Authorization: Bearer TOKEN).
            """
    )

    @Flag(help: "Only print the URL; do not open a browser.")
    var printURL = false

    func run() async throws {
        let client = ControlClient(paths: DaemonPaths())
        let info: DashboardInfo
        do {
            try await client.ensureDaemon(executable: Terminal.executable)
            info = try await client.dashboard()
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
        guard let url = info.url else {
            Terminal.error(info.error ?? "the daemon's dashboard is not listening yet; try again in a moment")
            throw ExitCode.failure
        }
        Terminal.line(url)
        if !self.printURL, let opener = Self.browserOpener() {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: opener)
            process.arguments = [url]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do { try process.run() } catch { Terminal.error("could not open a browser (\(error)); open the URL above") }
        }
    }

    /// `xdg-open` when there is a display to open a browser on (`open` on macOS).
    private static func browserOpener() -> String? {
        #if os(macOS)
        return "/usr/bin/open"
        #else
        let environment = ProcessInfo.processInfo.environment
        guard environment["DISPLAY"] != nil || environment["WAYLAND_DISPLAY"] != nil else { return nil }
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/xdg-open" }
        return path.first { FileManager.default.isExecutableFile(atPath: $0) }
        #endif
    }
}
