import Foundation
import Testing

/// A network namespace joined to this one by a veth pair, with addresses in 198.18.0.0/15
/// (reserved for benchmarks, on no interface of this machine) on that pair only: a cluster
/// "elsewhere" whose link a test can take down and bring back. Removed when the body ends.
struct NetworkNamespace: Sendable {
    let name: String
    /// The host's end of the pair, and its address.
    let hostLink: String
    let hostAddress: String
    /// The namespace's address, where a server in it listens.
    let address: String

    /// Runs `body` with a new namespace; nil, after saying why loudly, where this machine does
    /// not let the test make one (no root, no `ip`, a sandbox without namespaces).
    static func with<T: Sendable>(_ body: (NetworkNamespace) async throws -> T) async throws -> T? {
        let tag = String(UInt32.random(in: 0..<0xFFFFFF), radix: 16)
        let used = (try? await runCommand("ip", ["-o", "addr"]).stdout) ?? ""
        guard let third = (0..<256).shuffled().first(where: { !used.contains("198.18.\($0).") }) else {
            print("SKIPPED: no free 198.18.x.0/30 for a network namespace")
            return nil
        }
        let namespace = NetworkNamespace(
            name: "kfwd-\(tag)", hostLink: "kfwd\(tag)h", hostAddress: "198.18.\(third).1", address: "198.18.\(third).2"
        )
        defer { namespace.remove() }
        let steps: [[String]] = [
            ["netns", "add", namespace.name],
            ["link", "add", namespace.hostLink, "type", "veth", "peer", "name", "kfwd\(tag)n"],
            ["link", "set", "kfwd\(tag)n", "netns", namespace.name],
            ["addr", "add", "\(namespace.hostAddress)/30", "dev", namespace.hostLink],
            ["link", "set", namespace.hostLink, "up"],
            // While the link is down its route goes, and the default route would carry what is
            // sent to the namespace off the machine: refused here instead.
            ["route", "add", "unreachable", "\(namespace.hostAddress.dropLast(2)).0/30", "metric", "4096"],
            ["netns", "exec", namespace.name, "ip", "addr", "add", "\(namespace.address)/30", "dev", "kfwd\(tag)n"],
            ["netns", "exec", namespace.name, "ip", "link", "set", "kfwd\(tag)n", "up"],
            ["netns", "exec", namespace.name, "ip", "link", "set", "lo", "up"],
        ]
        for step in steps {
            let result: CommandResult
            do { result = try await runCommand("ip", step) } catch {
                print("SKIPPED: this machine cannot make network namespaces (ip: \(error)); the link-down scenario did not run")
                return nil
            }
            guard result.succeeded else {
                print("SKIPPED: this machine forbids network namespaces (ip \(step.joined(separator: " ")): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); the link-down scenario did not run")
                return nil
            }
        }
        return try await body(namespace)
    }

    /// Takes the host's end of the link down (the route to the namespace goes with it), or
    /// brings it back.
    func setLink(up: Bool) async throws {
        let result = try await runCommand("ip", ["link", "set", self.hostLink, up ? "up" : "down"])
        guard result.succeeded else { throw KubeSimTestError("ip link set \(self.hostLink): \(result.stderr)") }
    }

    /// Deleting the namespace deletes its end of the pair, and so the pair.
    private func remove() {
        for arguments in [["netns", "del", self.name], ["route", "del", "unreachable", "\(self.hostAddress.dropLast(2)).0/30"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ip"] + arguments
            try? process.run()
            process.waitUntilExit()
        }
    }
}
