import Foundation
import Testing

@testable import ConfigStore

/// kfwd's block in a hosts file: added, replaced and removed with the rest byte for byte.
@Suite struct HostsFileTests {
    private static let original = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# a comment kept as it is  \n10.0.0.5 nas.home\t# trailing"

    @Test func theBlockIsAddedReplacedAndRemovedLeavingTheRestAsItWas() {
        let entries = [HostsFile.Entry(address: "127.12.3.4", names: ["web.shop.local", "www.shop.local"])]
        let added = HostsFile.rendered(Self.original, entries: entries)
        #expect(added.hasPrefix(Self.original + "\n"), "the rest untouched, a line end added where the file had none")
        #expect(added.hasSuffix("127.12.3.4\tweb.shop.local www.shop.local\n# END kfwd\n"))
        let replaced = HostsFile.rendered(added + "192.168.1.1 router\n", entries: [HostsFile.Entry(address: "127.0.0.1", names: ["db.local"])])
        #expect(replaced.contains("127.0.0.1\tdb.local\n# END kfwd\n192.168.1.1 router\n") && !replaced.contains("web.shop.local"))
        #expect(HostsFile.rendered(HostsFile.rendered(added, entries: []), entries: []) == Self.original + "\n")
        #expect(HostsFile.rendered(Self.original, entries: []) == Self.original)
    }

    @Test func writingKeepsTheModeAndABackup() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-hosts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("hosts").path
        try Data(Self.original.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let text = HostsFile.rendered(Self.original, entries: [HostsFile.Entry(address: "127.0.0.1", names: ["web.local"])])
        #expect(try HostsFile.write(text, to: path))
        #expect(!(try HostsFile.write(text, to: path)), "unchanged: not written again")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        #expect(try String(contentsOfFile: path + ".kfwd-backup", encoding: .utf8) == Self.original)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["hosts", "hosts.kfwd-backup"])
    }
}
