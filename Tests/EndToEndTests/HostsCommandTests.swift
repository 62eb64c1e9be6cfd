import Foundation
import Testing

/// `kfwd hosts` on a copy of a hosts file (KFWD_HOSTS_FILE): the saved forwards' hostnames on
/// their addresses, written in one block and removed, everything else byte for byte.
@Suite struct HostsCommandTests {
    @Test func hostnamesAreWrittenAndRemovedLeavingTheRestAsItWas() async throws {
        try await StoreCommandTests.withHome { home in
            let hosts = URL(fileURLWithPath: home).deletingLastPathComponent().appendingPathComponent("hosts-\(UUID().uuidString)").path
            defer {
                try? FileManager.default.removeItem(atPath: hosts)
                try? FileManager.default.removeItem(atPath: hosts + ".kfwd-backup")
            }
            let original = Data("127.0.0.1\tlocalhost\r\n# keep me\n::1 localhost\n".utf8)
            try original.write(to: URL(fileURLWithPath: hosts))
            let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home, "KFWD_HOSTS_FILE": hosts]) }
            #expect(try await kfwd(["add", "web", "svc/web", "8080:80", "--address", "auto", "--hostname", "web.shop.local"]).succeeded)
            #expect(try await kfwd(["add", "api", "svc/api", "9090:80", "--hostname", "api.shop.local", "--hostname", "api2.shop.local"]).succeeded)
            let bad = try await kfwd(["add", "bad", "svc/web", "80", "--hostname", "Web_Shop"])
            #expect(bad.status != .exited(0) && bad.stderr.contains("hostname 'Web_Shop' is not a DNS name"), "\(bad.stderr)")

            let shown = try await kfwd(["hosts"])
            #expect(shown.stdout.contains("\(hosts) differs"), "\(shown.stdout)")
            let applied = try await kfwd(["hosts", "apply"])
            #expect(applied.succeeded, "\(applied.stderr)")
            let written = try String(contentsOfFile: hosts, encoding: .utf8)
            #expect(written.hasPrefix(String(decoding: original, as: UTF8.self)), "the rest untouched")
            let lines = written.split(separator: "\n").map(String.init)
            let web = try #require(lines.first { $0.hasSuffix("\tweb.shop.local") })
            #expect(web.hasPrefix("127.") && !web.hasPrefix("127.0.0.1"), "its own address: \(web)")
            #expect(lines.contains("127.0.0.1\tapi.shop.local api2.shop.local"))
            #expect(try await kfwd(["hosts"]).stdout.contains("\(hosts) has it."))
            #expect(try await kfwd(["hosts", "clear"]).succeeded)
            #expect(try Data(contentsOf: URL(fileURLWithPath: hosts)) == original, "byte for byte as it was")
        }
    }
}
