import Foundation
import Testing

/// A real terminal for a test: a tmux server of its own (its own socket) with one pane of a
/// given size running an interactive shell, typed into with `send-keys` and read with
/// `capture-pane`, as a user's terminal would be.
struct TmuxPane: Sendable {
    let socket: String

    /// Starts the server and its pane (`bash` without rc files, prompt `$ `, kfwd on its
    /// `PATH`) with `environment`, in `directory`.
    static func start(width: Int, height: Int, environment: [String: String], directory: String? = nil) async throws -> TmuxPane {
        let pane = TmuxPane(socket: FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-tmux-\(UUID().uuidString)").path)
        let path = URL(fileURLWithPath: kfwdPath).deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let variables = environment.merging(["LANG": "C.UTF-8", "PATH": path, "PS1": "$ "]) { $1 }.map { "\($0.key)='\($0.value)'" }.sorted()
        // Through env(1): tmux's -e does not reach PATH or PS1 of the pane's shell.
        let command = "env " + variables.joined(separator: " ") + " bash --norc --noprofile -i"
        let started = try await pane.tmux(["new-session", "-d", "-x", String(width), "-y", String(height)] + (directory.map { ["-c", $0] } ?? []) + [command])
        guard started.succeeded else { throw KubeSimTestError("tmux did not start: \(started.stderr)") }
        _ = try await pane.screen { $0.contains("$") }
        return pane
    }

    @discardableResult
    func tmux(_ arguments: [String]) async throws -> CommandResult {
        try await runCommand("tmux", ["-S", self.socket] + arguments)
    }

    /// Types `keys`: text as it is, and tmux key names (`Enter`, `Escape`, `Space`).
    func send(_ keys: String..., literally: Bool = false) async throws {
        try await self.tmux(["send-keys", "-t", "0"] + (literally ? ["-l"] : []) + keys)
    }

    /// What the pane shows now, one line per row.
    func capture() async throws -> String {
        try await self.tmux(["capture-pane", "-p", "-t", "0"]).stdout
    }

    /// Reads the pane until `done` holds for it (tmux tells of no change: it is read every
    /// 100 ms, up to `timeout`).
    @discardableResult
    func screen(timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation, _ done: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var text = ""
        while ContinuousClock.now < deadline {
            text = try await self.capture()
            // tmux 3.3 may be captured halfway through drawing a frame (it knows no
            // synchronized updates): what is asked must hold on two captures in a row.
            if done(text) {
                let again = try await self.capture()
                if again == text { return text }
                text = again
                continue
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw KubeSimTestError("the screen never got there; it shows:\n\(text)")
    }

    /// The line of the table that shows `alias`.
    static func row(_ alias: String, in screen: String) -> String? {
        screen.split(separator: "\n").map(String.init).first { line in
            line.count > 3 && line.dropFirst(3).hasPrefix(alias + " ")
        }
    }

    func kill() async {
        _ = try? await self.tmux(["kill-server"])
        try? FileManager.default.removeItem(atPath: self.socket)
    }
}
