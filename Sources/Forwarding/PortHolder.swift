import Foundation

/// Who holds a local TCP or UDP port, when the system says (Linux: /proc/net/tcp{,6} and
/// /proc/net/udp{,6} give the socket's inode, /proc/PID/fd the process that has it open). Best effort: nil when
/// the holder belongs to another user or the system does not tell.
enum PortHolder {
    /// The error for a local port someone else holds: which port, who (when the system says),
    /// and what to use instead.
    static func inUse(_ mapping: PortMapping, host: String, udp: Bool = false) -> ForwardError {
        let holder = self.describe(port: mapping.local, udp: udp).map { " by \($0)" } ?? ""
        let other = mapping.local == 65535 ? (udp ? 8053 : 8080) : mapping.local + 1
        return ForwardError(
            code: .portBusy, "local \(udp ? "UDP " : "")port \(mapping.local) on \(host) is already in use\(holder): choose another local port, "
                + "e.g. \(other):\(mapping.remote), or :\(mapping.remote) for a free one"
        )
    }

    static func describe(port: Int, udp: Bool = false) -> String? {
        #if os(Linux)
        // A listening TCP socket is in state 0A (LISTEN); a bound UDP socket in 07 (CLOSE).
        let tables = udp ? ["/proc/net/udp", "/proc/net/udp6"] : ["/proc/net/tcp", "/proc/net/tcp6"]
        let inodes = Set(tables.flatMap { Self.boundInodes(table: $0, port: port, state: udp ? "07" : "0A") })
        guard !inodes.isEmpty else { return nil }
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in processes where pid.allSatisfy(\.isNumber) {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            for fd in fds {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                    target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast()))
                else { continue }
                let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                return "\(name) (pid \(pid))"
            }
        }
        return "another process"
        #else
        return nil
        #endif
    }

    /// Inodes of sockets in `state` on `port` in one of the kernel's tables.
    private static func boundInodes(table: String, port: Int, state: String) -> [String] {
        guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { return [] }
        let hexPort = String(format: "%04X", port)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, fields[1].hasSuffix(":\(hexPort)"), fields[3] == state else { return nil }
            return String(fields[9])
        }
    }
}
