import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a process still runs: it exists (signal 0 reaches it, or it is another user's) and,
/// on Linux, is not a zombie, as a killed process stays until its parent reaps it (a daemon's
/// parent is init, which in a container may never do so).
public enum ProcessLiveness {
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        #if os(Linux)
        // /proc/PID/stat: "PID (COMMAND) STATE ...", the command may hold spaces and parentheses.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state != "Z" && state != "X"
        }
        #endif
        return true
    }
}
