import Foundation
import Testing
import NIOCore
import NIOPosix
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The lines a running command printed (stdout and stderr together), with a way to wait for one.
final class OutputLines: Sendable {
    private struct Waiter {
        let predicate: @Sendable (String) -> Bool
        let continuation: CheckedContinuation<String?, Never>
    }

    private let state = Mutex<(lines: [String], waiters: [UInt64: Waiter], next: UInt64, ended: Bool)>(([], [:], 0, false))

    var all: [String] { self.state.withLock { $0.lines } }

    func append(_ line: String) {
        let ready = self.state.withLock { state -> [CheckedContinuation<String?, Never>] in
            state.lines.append(line)
            let matched = state.waiters.filter { $0.value.predicate(line) }
            for id in matched.keys { state.waiters.removeValue(forKey: id) }
            return matched.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: line) }
    }

    func end() {
        let waiting = self.state.withLock { state -> [CheckedContinuation<String?, Never>] in
            state.ended = true
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in waiting { continuation.resume(returning: nil) }
    }

    /// The first line (already printed or still to come) that matches, or nil when the command
    /// ended, or `timeout` passed, without printing one (so a test waiting for a line that
    /// never comes fails instead of hanging CI).
    func first(timeout: Duration = .seconds(30), where predicate: @escaping @Sendable (String) -> Bool) async -> String? {
        await withCheckedContinuation { continuation in
            let resolved: String?? = self.state.withLock { state in
                if let line = state.lines.first(where: predicate) { return .some(line) }
                if state.ended { return .some(nil) }
                let id = state.next
                state.waiters[id] = Waiter(predicate: predicate, continuation: continuation)
                state.next += 1
                let (seconds, attoseconds) = timeout.components
                DispatchQueue.global().asyncAfter(deadline: .now() + Double(seconds) + Double(attoseconds) / 1e18) {
                    self.state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: nil)
                }
                return nil
            }
            if let resolved { continuation.resume(returning: resolved) }
        }
    }
}

extension OutputLines {
    /// The `n`-th line (from 1) that matches, or nil as ``first(timeout:where:)`` gives it.
    func nth(_ n: Int, timeout: Duration = .seconds(30), where predicate: @escaping @Sendable (String) -> Bool) async -> String? {
        let seen = Mutex(0)
        return await self.first(timeout: timeout) { line in
            predicate(line) && seen.withLock { count in
                count += 1
                return count == n
            }
        }
    }

    /// Waits until the command ends (its output closes), or `timeout` passes.
    func untilEnd(timeout: Duration = .seconds(30)) async {
        _ = await self.first(timeout: timeout) { _ in false }
    }
}

/// The kfwd executable built next to the test bundle.
let kfwdPath = builtExecutable("kfwd")

/// The kubesim executable built next to the test bundle.
let kubesimPath = builtExecutable("kubesim")

/// The package's root folder (scripts, docs, Package.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

private func builtExecutable(_ name: String) -> String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    return packageRoot + "/.build/debug/\(name)"
}

/// Runs `kfwd ARGUMENTS` and `body` with its output; when `body` returns, kfwd gets SIGTERM.
/// Every run also checks what a user would see on the way out: no crash, and no stop that
/// hung until kfwd's watchdog ended it.
/// - Returns: what `body` returned, every line kfwd printed, and how it exited.
func runKfwd<T: Sendable>(
    _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable (OutputLines) async throws -> T
) async throws -> (value: T, lines: [String], status: TerminationStatus) {
    let run = try await runLongLived(.path(FilePath(kfwdPath)), arguments, body)
    let troubles = run.lines.filter { line in
        line.hasPrefix("*** Program crashed") || line.contains("Fatal error:") || line.contains("shutdown did not finish")
    }
    #expect(troubles.isEmpty, "kfwd \(arguments.prefix(2).joined(separator: " ")) crashed or hung stopping: \(troubles)", sourceLocation: sourceLocation)
    return run
}

/// Runs a long-lived command (kfwd, kubectl port-forward) and `body` with its output (stdout
/// and stderr together); when `body` returns, the command gets SIGTERM.
func runLongLived<T: Sendable>(
    _ executable: Executable, _ arguments: [String], environment: [String: String] = [:], workingDirectory: String? = nil,
    _ body: @escaping @Sendable (OutputLines) async throws -> T
) async throws -> (value: T, lines: [String], status: TerminationStatus) {
    let lines = OutputLines()
    let result = try await Subprocess.run(
        executable, arguments: Arguments(arguments), environment: .inherit.updating(environmentOverrides(environment)),
        workingDirectory: workingDirectory.map { FilePath($0) }, input: .none, output: .sequence, error: .combinedWithOutput
    ) { execution in
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                var pending: [UInt8] = []
                for try await buffer in execution.standardOutput {
                    buffer.withUnsafeBytes { pending.append(contentsOf: $0) }
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                        pending.removeSubrange(...newline)
                    }
                }
                lines.end()
                return nil
            }
            let value: T
            do {
                value = try await body(lines)
            } catch {
                try? execution.send(signal: .terminate)
                throw error
            }
            try? execution.send(signal: .terminate)
            // kfwd has its own 5 s shutdown watchdog; this one only keeps a hang from stalling CI.
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                try? execution.send(signal: .kill)
                return nil
            }
            _ = try await group.next()
            group.cancelAll()
            return value
        }
    }
    return (result.closureResult, lines.all, result.terminationStatus)
}

/// The local port of the first `Forwarding from 127.0.0.1:PORT -> REMOTE` line.
func forwardedPort(_ lines: OutputLines) async throws -> Int {
    guard let line = await lines.first(where: { $0.hasPrefix("Forwarding from 127.0.0.1:") || $0.hasPrefix("error:") }),
        line.hasPrefix("Forwarding"),
        let port = Int(line.dropFirst("Forwarding from 127.0.0.1:".count).prefix { $0.isNumber })
    else {
        throw KubeSimTestError("kfwd did not start forwarding: \(lines.all)")
    }
    return port
}

struct KubeSimTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
