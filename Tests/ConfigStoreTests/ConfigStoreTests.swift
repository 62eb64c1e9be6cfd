import ConfigStore
import Foundation
import Testing

@Suite struct ConfigStoreTests {
    static func withStore<T>(_ body: (ConfigStore, String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("kfwd.sqlite").path
        return try body(try ConfigStore(path: path), path)
    }

    static let kftrayFile = """
        [
          {"id": 7, "alias": "orders-api", "context": "staging", "namespace": "shop", "workload_type": "service", "service": "orders",
           "protocol": "tcp", "local_port": 18080, "remote_port": 8080, "domain_enabled": "true", "auto_loopback_address": true},
          {"alias": "cluster-dns", "context": "staging", "namespace": "kube-system", "workload_type": "proxy",
           "remote_address": "kube-dns.kube-system.svc.cluster.local", "protocol": "udp", "local_port": 5353, "remote_port": 53},
          {"namespace": "shop", "workload_type": "pod", "target": "app=web", "local_port": 8081, "remote_port": 80, "kubeconfig": "/k/a:/k/b",
           "http_logs_enabled": null, "transport": "spdy"}
        ]
        """

    static func configs(_ data: Data) throws -> [KftrayConfig] {
        try JSONDecoder().decode([KftrayConfig].self, from: data)
    }

    @Test func aKftrayFileRoundTripsThroughTheStore() throws {
        try Self.withStore { store, _ in
            let summary = try store.importKftray(Data(Self.kftrayFile.utf8))
            #expect(summary.added == ["orders-api", "cluster-dns", "pod-tcp-8081"])
            let exported = try store.exportKftray().data
            // The same forwards, without ids, each with the alias it goes by.
            var expected = try Self.configs(Data(Self.kftrayFile.utf8))
            for index in expected.indices {
                expected[index].id = nil
                expected[index].alias = expected[index].effectiveAlias
            }
            #expect(try Self.configs(exported) == expected)
            // And the export imports to an identical export.
            try Self.withStore { other, _ in
                _ = try other.importKftray(exported)
                #expect(try other.exportKftray().data == exported)
            }
            // Importing it again changes nothing.
            #expect(try store.importKftray(exported) == ImportSummary(unchanged: ["orders-api", "cluster-dns", "pod-tcp-8081"]))
        }
    }

    @Test func aDryRunSaysWhatTheImportWillDoAndChangesNothing() throws {
        try Self.withStore { store, _ in
            var api = ForwardConfig(target: "svc/api", ports: ["9090:80"])
            api.group = "shop"
            try store.add(api, alias: "api")
            let preview = try store.importKftray(Data(Self.kftrayFile.utf8), dryRun: true)
            #expect(preview.added == ["orders-api", "cluster-dns", "pod-tcp-8081"])
            #expect(try store.forwards().map(\.alias) == ["api"], "a preview keeps nothing")
            #expect(try store.importKftray(Data(Self.kftrayFile.utf8)) == preview, "the import does what its preview said")

            let project = [("web", ForwardConfig(target: "svc/web", ports: ["8080:80"]))]
            let change = try store.replaceGroup("shop", with: project, dryRun: true)
            #expect(change.added == ["web"] && change.removed == ["api"])
            #expect(try store.members(of: "shop") == ["api"])
            #expect(try store.replaceGroup("shop", with: project) == change)
            #expect(try store.members(of: "shop") == ["web"])
        }
    }

    @Test func oneInvalidEntryRejectsTheWholeImportAndTheStoreStaysAsItWas() throws {
        try Self.withStore { store, _ in
            _ = try store.importKftray(Data(Self.kftrayFile.utf8))
            let before = try store.exportKftray().data
            let bad = """
                [
                  {"alias": "new-one", "namespace": "shop", "workload_type": "service", "service": "cart", "remote_port": 80},
                  {"alias": "broken", "namespace": "", "workload_type": "service", "remote_port": "80"},
                  {"alias": "worse", "namespace": "shop", "workload_type": "teleport"},
                  {"alias": "orders-api", "namespace": "shop", "workload_type": "pod", "target": "app=x"}
                ]
                """
            do throws(ConfigStoreError) {
                _ = try store.importKftray(Data(bad.utf8))
                Issue.record("the import was accepted")
            } catch {
                #expect(error.problems.contains("entry 2: field 'remote_port' must be a number"), "\(error.problems)")
                #expect(error.problems.contains("entry 3 (worse): field 'workload_type' is 'teleport': use service, pod or proxy"))
            }
            // Valid entries, but one takes an alias another forward has: rolled back as a whole.
            let clash = """
                [
                  {"alias": "new-one", "namespace": "shop", "workload_type": "service", "service": "cart", "remote_port": 80},
                  {"alias": "orders-api", "namespace": "shop", "workload_type": "pod", "target": "app=x", "remote_port": 80}
                ]
                """
            #expect(throws: ConfigStoreError(["entry 2 (orders-api): another forward is named 'orders-api' (give this entry its own alias)"])) {
                try store.importKftray(Data(clash.utf8))
            }
            #expect(try store.exportKftray().data == before)
        }
    }

    @Test func importMergesAsKftrayDoes() throws {
        try Self.withStore { store, _ in
            _ = try store.importKftray(Data(Self.kftrayFile.utf8))
            let next = """
                [
                  {"context": "staging", "namespace": "shop", "workload_type": "service", "service": "orders", "protocol": "tcp",
                   "local_port": 0, "remote_port": 8081},
                  {"alias": "dns", "context": "staging", "namespace": "kube-system", "workload_type": "proxy",
                   "remote_address": "kube-dns.kube-system.svc.cluster.local", "protocol": "udp", "local_port": 5353, "remote_port": 53},
                  {"alias": "cart", "namespace": "shop", "workload_type": "service", "service": "cart", "remote_port": 80}
                ]
                """
            let summary = try store.importKftray(Data(next.utf8))
            #expect(summary == ImportSummary(added: ["cart"], updated: ["orders-api", "dns"]))
            let orders = try #require(try store.forward(alias: "orders-api"))
            // Updated in place: the new remote port, the old alias and local port.
            #expect(orders.config.remotePort == 8081)
            #expect(orders.config.localPort == 18080)
            #expect(try store.forward(alias: "cluster-dns") == nil)
            #expect(try store.forwards().map(\.alias) == ["orders-api", "dns", "pod-tcp-8081", "cart"])
        }
    }

    @Test func addAndRemoveCheckTheirInput() throws {
        try Self.withStore { store, _ in
            var config = KftrayConfig()
            config.namespace = "shop"
            config.workloadType = "service"
            config.service = "web"
            config.remotePort = 80
            try store.add(config, alias: "web")
            #expect(throws: ConfigStoreError("a forward named 'web' already exists: choose another alias, or remove it first (kfwd rm web)")) {
                try store.add(config, alias: "web")
            }
            config.service = nil
            #expect(throws: ConfigStoreError("api: workload_type 'service' needs the field 'service' (the Service's name)")) {
                try store.add(config, alias: "api")
            }
            #expect(throws: ConfigStoreError("no forward is named 'api'")) { try store.remove(aliases: ["web", "api"]) }
            #expect(try store.forwards().map(\.alias) == ["web"])
            try store.remove(aliases: ["web"])
            #expect(try store.forwards().isEmpty)
        }
    }

    @Test func settingsAndStatesPersistAndDeadOwnersShowStopped() throws {
        try Self.withStore { store, path in
            var settings = StoreSettings()
            settings.transport = "spdy"
            settings.relayImage = "registry.local/kfwd-relay:1"
            settings.dashboardPort = 9999
            try store.update(settings)
            var config = KftrayConfig()
            config.namespace = "shop"
            config.workloadType = "pod"
            config.target = "app=web"
            config.remotePort = 80
            let live = try store.add(config, alias: "live")
            let dead = try store.add(config, alias: "dead")
            try store.record(ForwardStateRecord(forwardID: live.id!, ownerPID: 100, status: "running", pods: ["web-1"]))
            try store.record(ForwardStateRecord(forwardID: dead.id!, ownerPID: 200, status: "retrying", lastError: "x", retryCount: 3))
            let reopened = try ConfigStore(path: path)
            #expect(try reopened.settings() == settings)
            #expect(try reopened.markStoppedUnlessAlive { $0 == 100 } == [dead.id!])
            let states = Dictionary(uniqueKeysWithValues: try reopened.states().map { ($0.forwardID, $0) })
            #expect(states[live.id!]?.status == "running")
            #expect(states[dead.id!]?.status == "stopped")
            #expect(states[dead.id!]?.pods == [])
            // Removing a forward removes its state.
            try reopened.remove(aliases: ["dead"])
            #expect(try reopened.states().map(\.forwardID) == [live.id!])
        }
    }

    @Test func theLocationFollowsKfwdHomeThenXDGThenHome() {
        #expect(StoreLocation.databasePath(environment: ["KFWD_HOME": "/a", "XDG_CONFIG_HOME": "/b", "HOME": "/c"]) == "/a/kfwd.sqlite")
        #expect(StoreLocation.databasePath(environment: ["XDG_CONFIG_HOME": "/b", "HOME": "/c"]) == "/b/kfwd/kfwd.sqlite")
        #expect(StoreLocation.databasePath(environment: ["HOME": "/c"]) == "/c/.config/kfwd/kfwd.sqlite")
    }
}
