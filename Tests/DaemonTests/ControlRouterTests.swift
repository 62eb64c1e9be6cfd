import ConfigStore
import ControlAPI
import Forwarding
import Foundation
import Hummingbird
import HummingbirdTesting
import KubeClient
import Logging
import Testing

@testable import Daemon

/// The control API's routes in process (HummingbirdTesting), on a real store and supervisor:
/// what `kfwd status`, `kfwd start` and `kfwd restart` get back.
@Suite struct ControlRouterTests {
    private func withControl(_ body: (ControlService, Application<RouterResponder<BasicRequestContext>>) async throws -> Void) async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-router-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = try ConfigStore(path: home + "/kfwd.sqlite")
        let supervisor = Supervisor(backoff: .init(initial: .seconds(30), cap: .seconds(30)))
        let control = ControlService(
            store: store, supervisor: supervisor, podWait: .seconds(30), transport: "spdy", log: ForwardLog(), dashboard: DashboardAccess(),
            logger: Logger(label: "test")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await supervisor.run() }
            try await body(control, Application(router: control.router()))
            supervisor.shutdown()
            try await group.waitForAll()
        }
    }

    @Test func aForwardWhoseKubeconfigIsMissingRetriesAndSaysWhyTyped() async throws {
        try await self.withControl { control, app in
            var config = KftrayConfig()
            config.workloadType = "service"
            config.service = "web"
            config.namespace = "shop"
            config.localPort = 0
            config.remotePort = 80
            config.kubeconfig = "/nonexistent/kubeconfig"
            _ = try control.store.add(config, alias: "web")
            // Saved forwards without a protocol take the `transport` setting.
            let saved = try #require(try control.store.forward(alias: "web"))
            #expect(try control.spec(saved).transport == .spdy)
            try await app.test(.router) { client in
                let started = try await client.execute(uri: "/v1/start", method: .post, body: ByteBuffer(string: #"{"aliases": ["web", "nope"]}"#))
                #expect(started.status == .ok)
                let result = try StatusReport.decoder.decode(ControlResult.self, from: started.body)
                #expect(result.done.isEmpty, "it runs and retries, and is not called started")
                #expect(result.errors.count == 1 && result.errors[0].hasPrefix("nope: no forward is saved with this alias"))
                #expect(result.details.first?.hasPrefix("web: retrying: ") == true, "\(result.details)")

                let status = try await client.execute(uri: "/v1/status", method: .get)
                let report = try StatusReport.decoder.decode(StatusReport.self, from: status.body)
                let web = try #require(report.forwards.first)
                #expect(web.status == "retrying")
                #expect(web.code == "kubeconfig", "\(web)")
                #expect(web.reason?.contains("/nonexistent/kubeconfig") == true, "\(web)")
                #expect(web.retryDelay.map { $0 > 0 } == true)
                #expect(web.retries == 1)

                let restarted = try await client.execute(uri: "/v1/restart", method: .post, body: ByteBuffer(string: #"{"aliases": ["web"]}"#))
                #expect(try StatusReport.decoder.decode(ControlResult.self, from: restarted.body).done == ["web"])
                let bad = try await client.execute(uri: "/v1/restart", method: .post, body: ByteBuffer(string: "{"))
                #expect(bad.status == .badRequest)
            }
        }
    }

    @Test func forwardsAnswersEverySavedForwardWithItsStateAndWhatTheFormsNeed() async throws {
        try await self.withControl { control, app in
            var web = ForwardConfig(target: "svc/web", ports: [":80"], namespace: "shop", context: "dev")
            web.tags = ["front"]
            _ = try control.store.add(web, alias: "web")
            let saved = web
            var kftray = KftrayConfig()
            kftray.workloadType = "service"
            kftray.service = "api"
            kftray.namespace = "shop"
            kftray.remotePort = 8080
            _ = try control.store.add(kftray, alias: "api")
            try await app.test(.router) { client in
                let answer = try await client.execute(uri: "/v1/forwards", method: .get)
                #expect(answer.status == .ok)
                let snapshot = try StatusReport.decoder.decode(ForwardsSnapshot.self, from: answer.body)
                #expect(snapshot.daemonPID == getpid())
                #expect(snapshot.forwards.map(\.alias) == ["web", "api"])
                let row = try #require(snapshot.forwards.first)
                #expect(row.target == "svc/web" && row.namespace == "shop" && row.context == "dev" && row.ports == "0:80" && row.tags == ["front"])
                #expect(row.native == saved && row.state.status == "stopped")
                #expect(snapshot.forwards[1].native?.target == "svc/api", "a kftray entry's meaning, for the edit form")
            }
        }
    }
}
