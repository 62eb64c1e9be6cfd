import Foundation
import KfwdVersion
import RelayProtocol
import Testing

/// A relay speaks the protocol of the kfwd that deploys it, so both say their versions.
@Suite struct VersionTests {
    @Test func kfwdAndItsRelaySayTheirVersionsFromOnePlace() async throws {
        let short = try await runCommand(kfwdPath, ["--version"])
        #expect(short.stdout == "kfwd \(KfwdVersion.current)\n")
        let json = try await runCommand(kfwdPath, ["version", "-o", "json"])
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(report?["kfwd"] as? String == KfwdVersion.current)
        #expect(report?["relay_protocol"] as? Int == Int(RelayHeader.version))
        #expect(report?["relay_image"] as? String == "ghcr.io/kfwd/kfwd-relay:\(KfwdVersion.current)")
        #expect((report?["swift"] as? String)?.hasPrefix("Swift 6.") == true)
        let text = try await runCommand(kfwdPath, ["version"])
        #expect(text.stdout.hasPrefix("kfwd \(KfwdVersion.current)\n"))
        let relay = try await runCommand(kfwdRelayPath, ["--version"])
        #expect(relay.stdout == "kfwd-relay \(KfwdVersion.current) (relay protocol \(RelayHeader.version))\n")
        // The release scripts read the same place.
        let script = try await runCommand("bash", [packageRoot + "/scripts/version"])
        #expect(script.stdout == "\(KfwdVersion.current)\n", "\(script.stderr)")
    }
}
