import Testing

@testable import Forwarding

/// `--address`: addresses, `localhost`, and `auto`, a loopback address of the forward's own.
@Suite struct ListenAddressesTests {
    @Test func autoGivesEachAliasItsOwnStableLoopbackAddress() throws {
        let db = ListenAddresses.loopback(for: "db")
        #expect(db == ListenAddresses.loopback(for: "db"), "the same on every run")
        #expect(db != ListenAddresses.loopback(for: "db2"))
        let aliases = (0..<500).map { "pg-\($0)" }
        let addresses = aliases.map(ListenAddresses.loopback(for:))
        #expect(Set(addresses).count == 500)
        for address in addresses {
            let octets = address.split(separator: ".").compactMap { Int($0) }
            #expect(octets.count == 4 && octets[0] == 127 && (1...254).contains(octets[1]) && (1...254).contains(octets[3]), "\(address)")
        }
        let parsed = try ListenAddresses(parsing: "auto,::1", alias: "db")
        #expect(parsed.addresses.map(\.host) == [db, "::1"])
        #expect(throws: ForwardError.self) { try ListenAddresses(parsing: "automatic", alias: "db") }
    }
}
