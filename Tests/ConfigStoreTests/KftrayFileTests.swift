import ConfigStore
import Foundation
import Testing

@Suite struct KftrayFileTests {
    /// The shape kftray exports (kftray.md section 1.3), with its lenient booleans.
    private let exported = """
        [
          {"alias": "orders-api", "context": "staging", "namespace": "shop", "workload_type": "service",
           "service": "orders", "protocol": "tcp", "local_port": 18080, "remote_port": 8080,
           "domain_enabled": "true", "auto_loopback_address": true},
          {"alias": "cluster-dns", "context": "staging", "namespace": "kube-system", "workload_type": "proxy",
           "remote_address": "kube-dns.kube-system.svc.cluster.local", "protocol": "udp", "local_port": 5353,
           "remote_port": 53, "http_logs_enabled": null},
          {"namespace": "shop", "workload_type": "pod", "target": "app=web", "remote_port": 80, "colour": "blue"}
        ]
        """

    @Test func readsKftrayExportsWithLenientBooleans() throws {
        let file = try KftrayFile(data: Data(self.exported.utf8))
        let configs = try file.entries.map { try $0.config.get() }
        #expect(configs.count == 3)
        #expect(configs[0].service == "orders" && configs[0].localPort == 18080 && configs[0].remotePort == 8080)
        #expect(configs[0].domainEnabled == true && configs[0].autoLoopbackAddress == true)
        #expect(configs[1].workloadType == "proxy" && configs[1].remoteAddress == "kube-dns.kube-system.svc.cluster.local")
        #expect(configs[1].httpLogsEnabled == nil)
        #expect(configs[2].target == "app=web" && configs[2].alias == nil)
        #expect(file.entries[2].unknownFields == ["colour"])
    }

    @Test func oneBadEntryIsReportedAloneNamingItsField() throws {
        let text = """
            [{"namespace": "a", "workload_type": "service", "service": "web", "remote_port": 80},
             {"namespace": "a", "workload_type": "service", "service": "web", "remote_port": "eighty"},
             {"namespace": "a", "domain_enabled": "maybe"},
             7]
            """
        let entries = try KftrayFile(data: Data(text.utf8)).entries
        #expect((try? entries[0].config.get()) != nil)
        #expect(entries[1].config.failure?.message == "entry 2: field 'remote_port' must be a number")
        #expect(entries[2].config.failure?.message.hasPrefix("entry 3: field 'domain_enabled'") == true)
        #expect(entries[3].config.failure?.message == "entry 4 is not a JSON object")
    }

    @Test func acceptsOneObjectAndRejectsWhatIsNotAConfigFile() throws {
        #expect(try KftrayFile(data: Data(#"{"namespace": "a"}"#.utf8)).entries.count == 1)
        #expect(throws: KftrayFileError.self) { try KftrayFile(data: Data("[1,".utf8)) }
        let error = #expect(throws: KftrayFileError.self) { try KftrayFile(data: Data("42".utf8)) }
        #expect(error?.message.contains("JSON array") == true)
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
