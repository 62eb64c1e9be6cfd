import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The inherited environment plus these variables; a kfwd daemon a test starts takes any free
/// dashboard port, never the user's 8787.
func environmentOverrides(_ environment: [String: String]) -> [Subprocess.Environment.Key: String?] {
    let environment = ["KFWD_DASHBOARD_PORT": "0"].merging(environment) { $1 }
    return Dictionary(uniqueKeysWithValues: environment.map { (Subprocess.Environment.Key(rawValue: $0.key)!, Optional($0.value)) })
}

/// The outcome of a command run to completion.
struct CommandResult: Sendable {
    let status: TerminationStatus
    let stdout: String
    let stderr: String
    var succeeded: Bool { self.status.isSuccess }
}

/// Runs a command (looked up on PATH) with extra environment and collects its output.
func runCommand(
    _ name: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil, workingDirectory: String? = nil
) async throws -> CommandResult {
    let result = try await Subprocess.run(
        executable(name), arguments: Arguments(arguments), environment: .inherit.updating(environmentOverrides(environment)),
        workingDirectory: workingDirectory.map { FilePath($0) }, input: .string(input ?? ""), output: .string(limit: 16 << 20), error: .string(limit: 16 << 20)
    )
    return CommandResult(status: result.terminationStatus, stdout: result.standardOutput, stderr: result.standardError)
}

/// A path, or a name looked up on PATH.
func executable(_ name: String) -> Executable {
    name.contains("/") ? .path(FilePath(name)) : .name(name)
}

/// Whether a program is on PATH.
/// Where a program is: on PATH, else in the sbin folders Debian puts servers and runtimes in.
func installedPath(_ name: String) -> String? {
    let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
    return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

func isInstalled(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
    }
}

/// Runs a long-lived command and hands each stdout line to `onLine` until it returns false (the
/// command is then sent SIGTERM) or the command ends.
/// - Returns: the lines read and the termination status.
func streamLines(
    _ name: String, _ arguments: [String], environment: [String: String] = [:],
    onLine: (String) async throws -> Bool
) async throws -> (lines: [String], status: TerminationStatus) {
    let result = try await Subprocess.run(
        executable(name), arguments: Arguments(arguments), environment: .inherit.updating(environmentOverrides(environment)),
        input: .none, output: .sequence, error: .discarded
    ) { execution in
        var lines: [String] = []
        var pending: [UInt8] = []
        reading: for try await buffer in execution.standardOutput {
            buffer.withUnsafeBytes { pending.append(contentsOf: $0) }
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                lines.append(line)
                if try await !onLine(line) {
                    try? execution.send(signal: .terminate)
                    break reading
                }
            }
        }
        return lines
    }
    return (result.closureResult, result.terminationStatus)
}
