import Forwarding
import Foundation
import GRDB
import Testing

@testable import ConfigStore

/// kfwd's own forward config in the store: what it holds that kftray's format cannot, the one
/// check every saved forward passes, and stores written before it existed.
@Suite struct NativeConfigTests {
    private func withStore(_ body: (ConfigStore, String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-native-\(UUID().uuidString)/kfwd.sqlite").path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try body(try ConfigStore(path: path), path)
    }

    @Test func aNativeForwardKeepsWhatKftrayCannotHoldAndRunsAsSaved() throws {
        try self.withStore { store, path in
            let config = ForwardConfig(
                target: "deploy/web", ports: ["8080:8080", "9090:9090"], namespace: "shop", sticky: true, podWaitSeconds: 5, tags: ["team-a"]
            )
            try store.add(config, alias: "web")
            let saved = try #require(try ConfigStore(path: path).forward(alias: "web"))
            #expect(saved.spec == config)
            #expect(saved.exportable == nil, "kftray has no Deployment kind and one port per entry")
            let spec = try saved.native().forwardSpec(alias: saved.alias, podWait: .seconds(30), transport: "spdy")
            #expect(spec.target == .deployment("web"))
            #expect(spec.mappings == [PortMapping(local: 8080, remote: 8080), PortMapping(local: 9090, remote: 9090)])
            #expect(spec.sticky && spec.podWait == .seconds(5) && spec.transport == .spdy && spec.namespace == "shop")
            #expect(try store.exportKftray().left == ["web"])
        }
    }

    @Test func aNativeForwardKftrayCanHoldIsExportedAsKftrayWritesIt() throws {
        try self.withStore { store, _ in
            try store.add(ForwardConfig(selector: "app=web", ports: [":80"], namespace: "shop", udp: true), alias: "dns")
            let (data, left) = try store.exportKftray()
            #expect(left.isEmpty)
            let entries = try JSONDecoder().decode([KftrayConfig].self, from: data)
            #expect(entries.count == 1)
            #expect(entries.first?.workloadType == "pod" && entries.first?.target == "app=web" && entries.first?.protocol == "udp")
            #expect(entries.first?.localPort == 0 && entries.first?.remotePort == 80 && entries.first?.alias == "dns")
        }
    }

    @Test(arguments: [
        (ForwardConfig(target: "svc/web", ports: []), "no port: give at least one, e.g. 8080:80"),
        (ForwardConfig(ports: ["80"]), "no target: give svc/NAME, deploy/NAME, pod/NAME, host/NAME, ip/ADDRESS or a selector"),
        (ForwardConfig(target: "svc/web", selector: "app=web", ports: ["80"]), "both a target and a selector: give one"),
        (ForwardConfig(target: "svc/web", ports: ["8080:80", "8080:81"]), "local port 8080 is given twice: each pair needs its own local port"),
        (ForwardConfig(target: "replicaset/web", ports: ["80"]), "'replicaset' in 'replicaset/web' is not a kind kfwd forwards to: use pod/, svc/, deploy/, host/ or ip/"),
        (ForwardConfig(target: "svc/web", ports: ["80"], transport: "quic"), "transport: unknown transport 'quic': use auto, tunnel, spdy or websocket"),
    ])
    func oneCheckForEveryForward(config: ForwardConfig, message: String) throws {
        try self.withStore { store, _ in
            #expect(throws: ConfigStoreError("x: \(message)")) { try store.add(config, alias: "x") }
            let saved = try store.forwards()
            #expect(saved.isEmpty)
        }
    }

    /// A store written by a kfwd without native configs: opened, migrated, its forwards run as
    /// their kftray entries say.
    @Test func aStoreFromBeforeNativeConfigsIsMigratedAndItsForwardsStillRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-v1-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/kfwd.sqlite"
        // The store as a kfwd of then left it: migrated up to v1, one forward saved.
        let queue = try DatabaseQueue(path: path)
        try ConfigStore.migrator.migrate(queue, upTo: "v1")
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO forward (alias, config, auto_start, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
                arguments: [
                    "web", #"{"alias":"web","namespace":"shop","workload_type":"service","service":"web","local_port":8080,"remote_port":80}"#,
                    Date(), Date(),
                ]
            )
        }
        try queue.close()
        let store = try ConfigStore(path: path)
        let web = try #require(try store.forward(alias: "web"))
        #expect(web.spec == nil && web.autoStart)
        let spec = try web.native().forwardSpec(alias: web.alias)
        #expect(spec.target == .service("web") && spec.mappings == [PortMapping(local: 8080, remote: 80)] && spec.namespace == "shop")
        #expect(try store.exportKftray().left.isEmpty)
    }
}
