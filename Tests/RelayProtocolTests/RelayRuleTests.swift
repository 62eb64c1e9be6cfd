import RelayProtocol
import Testing

@Suite struct RelayRuleTests {
    @Test func allowListsParseAndFormatTheSameSet() throws {
        let rules = try RelayRule.parseList(" udp/10.96.0.10:53, tcp/DB.Internal:5432,tcp/[fd00::0005]:80,")
        #expect(RelayRule.formatList(rules) == "tcp/[fd00::5]:80,tcp/db.internal:5432,udp/10.96.0.10:53")
        #expect(try RelayRule.parseList(RelayRule.formatList(rules)) == rules)
        #expect(rules.contains(RelayRule(.tcp, try RelayTarget(host: "db.internal", port: 5432))))
        #expect(!rules.contains(RelayRule(.udp, try RelayTarget(host: "db.internal", port: 5432))))
    }

    @Test(arguments: ["10.0.0.1:53", "icmp/10.0.0.1:1", "udp/10.0.0.1", "tcp/fd00::1:80", "tcp/a..b:80", "tcp/host:70000"])
    func badEntriesNameThemselves(entry: String) {
        do {
            _ = try RelayRule(parsing: entry)
            Issue.record("\(entry) was accepted")
        } catch {
            #expect(error.message.contains(entry) || error.message.contains("out of range"), "\(error.message)")
        }
    }

    @Test func secretsMatchOnlyThemselves() {
        let secret = RelaySecret.generate()
        #expect(secret.count == 64)
        #expect(RelaySecret.matches(secret, secret))
        #expect(!RelaySecret.matches(String(secret.dropLast()), secret))
        #expect(!RelaySecret.matches(secret + "0", secret))
        #expect(!RelaySecret.matches("", secret))
        #expect(RelaySecret.generate() != secret)
    }
}
