import ControlAPI
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One daemon per user: an exclusive `flock` on a file in the kfwd home, held for the life of
/// the process (the kernel releases it however the process ends, so a killed daemon never
/// blocks the next one, as a pid file alone would).
public struct DaemonLock: Sendable {
    private let descriptor: Int32

    /// - Throws: ``DaemonError`` naming the running daemon's pid when another one holds it.
    public static func acquire(_ path: String) throws(DaemonError) -> DaemonLock {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw DaemonError("cannot open the daemon lock \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(descriptor)
            throw DaemonError("another kfwd daemon is running (pid \(holder)): use it (kfwd status), or stop it first")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return DaemonLock(descriptor: descriptor)
    }
}
