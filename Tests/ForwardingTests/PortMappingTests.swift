import Testing

@testable import Forwarding

/// kubectl's `[LOCAL:]REMOTE` pairs, the remote port a number or a name.
@Suite struct PortMappingTests {
    @Test func numbersAndNamesParseAsKubectlTakesThem() throws {
        #expect(try PortMapping(parsing: "8080:80") == PortMapping(local: 8080, remote: 80))
        #expect(try PortMapping(parsing: "80") == PortMapping(local: 80, remote: 80))
        #expect(try PortMapping(parsing: ":80") == PortMapping(local: 0, remote: 80))
        #expect(try PortMapping(parsing: "8080:http") == PortMapping(local: 8080, remote: .name("http")))
        #expect(try PortMapping(parsing: ":http-alt") == PortMapping(local: 0, remote: .name("http-alt")))
        #expect(try PortMapping(parsing: "8080:http").description == "8080:http")
        #expect(try RemotePort(parsing: "h2c") == .name("h2c"))
    }

    @Test func badPortsAreRefusedWithTheFix() {
        func message(_ text: String) -> String {
            do {
                _ = try PortMapping(parsing: text)
                return "accepted"
            } catch {
                return error.message
            }
        }
        // kubectl numbers a lone name locally after reading the object; kfwd listens first.
        #expect(message("http") == "port 'http' names the remote port: give the local one too, e.g. 8080:http, or :http for a free one")
        #expect(message("80:0").contains("must be a number from 1 to 65535"))
        #expect(message("80:70000").contains("must be a number from 1 to 65535"))
        // Names as Kubernetes allows them: lower case, at most 15, a letter, no edge or double hyphen.
        for bad in ["HTTP", "http_2", "-http", "http-", "h--p", "1234567890123456a", "123-456", "sixteen-letters-"] {
            #expect(message("80:\(bad)").contains("is neither a number from 1 to 65535 nor a port name"), "\(bad)")
        }
        #expect(message("x:80").contains("local port 'x'"))
        #expect(message("1:2:3").contains("is not [LOCAL:]REMOTE"))
    }

    @Test func anAddressHasNoNamedPorts() throws {
        let named = [try PortMapping(parsing: "8080:http")]
        #expect(throws: ForwardError.self) { try ForwardTarget.address("db.internal").check(named) }
        #expect(throws: Never.self) { try ForwardTarget.service("web").check(named) }
        #expect(throws: Never.self) { try ForwardTarget.address("db.internal").check([PortMapping(local: 1, remote: 5432)]) }
    }
}
