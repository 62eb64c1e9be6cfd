import Forwarding
import Foundation
import KubeSim
import NIOCore
import NIOPosix
import Testing

/// `kfwd doctor -o json` against KubeSim with RBAC: what each account, credential and port
/// situation gets, check by check, and the exit status that says whether the forward would work.
@Suite struct DoctorTests {
    private func doctor(_ arguments: [String]) async throws -> (reports: [DoctorReport], exit: Bool) {
        let result = try await runCommand(kfwdPath, ["doctor", "-o", "json"] + arguments)
        let reports = try JSONDecoder().decode([DoctorReport].self, from: Data(result.stdout.utf8))
        return (reports, result.succeeded)
    }

    private func statuses(_ report: DoctorReport?) -> [String: DoctorReport.Check.Status] {
        Dictionary((report?.checks ?? []).map { ($0.check, $0.status) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func eachAccountGetsTheChecksItsRightsEarn() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            // The admin: everything passes, watched, over the tunnel.
            let admin = try await self.doctor(["svc/web", ":http", "--kubeconfig", harness.kubeconfigPath])
            #expect(admin.exit)
            let adminReport = try #require(admin.reports.first)
            #expect(adminReport.ok && adminReport.mode == "watch" && adminReport.transport == "tunnel", "\(adminReport)")
            #expect(adminReport.checks.map(\.check) == ["kubeconfig", "credentials", "api", "namespace", "permissions", "target", "transport", "local_port"])
            #expect(adminReport.checks.allSatisfy { $0.status == .pass }, "\(adminReport.checks)")
            #expect(adminReport.checks.first { $0.check == "api" }?.detail.hasSuffix("Kubernetes v1.32.0-kubesim") == true)

            // kubectl's rights: works, polling, over SPDY (the tunnel's get is not granted); the
            // namespace cannot be read, which costs nothing.
            let dev = try await RestrictedAccount.create(harness, rules: RestrictedAccount.kubectlRules)
            let restricted = try await self.doctor(["svc/web", ":80", "--kubeconfig", dev.kubeconfigPath])
            let report = try #require(restricted.reports.first)
            #expect(restricted.exit && report.ok && report.mode == "poll" && report.transport == "spdy", "\(report)")
            #expect(self.statuses(report) == [
                "kubeconfig": .pass, "credentials": .pass, "api": .pass, "namespace": .warn, "permissions": .warn, "target": .pass,
                "transport": .pass, "local_port": .pass,
            ])
            // The token kubectl created is a JWT: its end of validity is read.
            #expect(report.checks.first { $0.check == "credentials" }?.detail.hasPrefix("token, valid until ") == true, "\(report.checks)")
            #expect(report.checks.first { $0.check == "transport" }?.detail.contains("tunnel refused (get on pods/portforward is not allowed)") == true)

            // List without watch: polling, said as what is not allowed.
            let lister = try await RestrictedAccount.create(harness, rules: RestrictedAccount.kubectlRules + """

                - {apiGroups: [""], resources: [services], verbs: [list]}
                - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list]}
                """, name: "lister")
            let listing = try #require(try await self.doctor(["svc/web", ":80", "--kubeconfig", lister.kubeconfigPath]).reports.first)
            #expect(listing.ok && listing.mode == "poll", "\(listing)")
            #expect(listing.checks.first { $0.check == "permissions" }?.detail.hasSuffix("watch on services and watch on endpointslices.discovery.k8s.io are not allowed in namespace default") == true)

            // Without pods/portforward: the right is named with its rule; nothing after is checked.
            let blocked = try await RestrictedAccount.create(harness, rules: """
                - {apiGroups: [""], resources: [services, pods], verbs: [get, list, watch]}
                """, name: "blocked")
            let refused = try await self.doctor(["svc/web", ":80", "--kubeconfig", blocked.kubeconfigPath])
            let refusedReport = try #require(refused.reports.first)
            #expect(!refused.exit && !refusedReport.ok)
            let permissions = refusedReport.checks.first { $0.check == "permissions" }
            #expect(permissions?.status == .fail && permissions?.fix?.contains("resources: [pods/portforward], verbs: [create]") == true, "\(refusedReport)")
            #expect(self.statuses(refusedReport)["target"] == .skip && self.statuses(refusedReport)["transport"] == .skip)

            // A relay forward without the rights to run its pod.
            let relay = try await self.doctor(["svc/web", ":80", "--udp", "--kubeconfig", dev.kubeconfigPath])
            let relayCheck = relay.reports.first?.checks.first { $0.check == "relay" }
            #expect(!relay.exit && relayCheck?.status == .fail, "\(relay.reports)")
            #expect(relayCheck?.fix?.contains("resources: [pods], verbs: [create, delete]") == true, "\(String(describing: relayCheck))")
        }
    }

    /// A relay forward's image is started, claimed and removed; one the cluster cannot run is
    /// said with the fix.
    @Test func aRelayForwardsImageIsStartedAndRemoved() async throws {
        try await SimHarness.run(manifest: webWithUDPServiceManifest, configure: { $0.mapRelayImage() }) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let good = try await self.doctor(["svc/dns", ":53", "--udp", "--relay-image", testRelayImage, "--kubeconfig", harness.kubeconfigPath])
            let relay = good.reports.first?.checks.first { $0.check == "relay" }
            #expect(good.exit && relay?.status == .pass, "\(good.reports)")
            #expect(relay?.detail.contains("from \(testRelayImage) started and answered") == true, "\(String(describing: relay))")
            #expect(harness.sim.relayPods().isEmpty, "the doctor's relay was removed")

            let bad = try await self.doctor(["svc/dns", ":53", "--udp", "--relay-image", "registry.invalid/relay:0", "--kubeconfig", harness.kubeconfigPath])
            let failed = bad.reports.first?.checks.first { $0.check == "relay" }
            #expect(!bad.exit && failed?.status == .fail && failed?.detail.contains("ErrImagePull") == true, "\(bad.reports)")
            #expect(failed?.fix?.contains("docs/relay.md") == true)
            try await harness.sim.waitUntil { $0.relayPods().isEmpty }
        }
    }

    @Test func expiredTokensFailingPluginsAndBusyPortsAreSaid() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            // A JWT that expired a minute ago, which the server also no longer takes.
            let claims = Data(#"{"exp":\#(Int(Date().timeIntervalSince1970) - 60),"sub":"late"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "")
            let token = "eyJhbGciOiJSUzI1NiJ9.\(claims).c2lnbmF0dXJl"
            harness.sim.setToken(token, user: "late", expires: Date().addingTimeInterval(-60))
            let expired = try await self.doctor(["svc/web", ":80", "--kubeconfig", try harness.write("late", try harness.kubeconfig(user: "token: \(token)"))])
            let credentials = expired.reports.first?.checks.first { $0.check == "credentials" }
            #expect(!expired.exit && credentials?.status == .fail, "\(expired.reports)")
            #expect(credentials?.detail.hasPrefix("token, expired at ") == true, "\(String(describing: credentials))")
            #expect(self.statuses(expired.reports.first)["api"] == .skip)

            // An exec plugin that fails: its words, and the command to run by hand.
            let plugin = try harness.write("plugin.sh", "#!/bin/sh\necho 'login required: run sso-login' >&2\nexit 3\n", mode: 0o755)
            let user = "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: \(plugin)\n  interactiveMode: Never"
            let failing = try await self.doctor(["svc/web", ":80", "--kubeconfig", try harness.write("exec", try harness.kubeconfig(user: user))])
            let failed = failing.reports.first?.checks.first { $0.check == "credentials" }
            #expect(!failing.exit && failed?.status == .fail && failed?.detail.contains("login required") == true, "\(failing.reports)")
            #expect(failed?.fix?.contains(plugin) == true)

            // A local port held by someone else: named, the cluster's checks still made.
            let held = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
            let port = held.localAddress!.port!
            let busy = try await self.doctor(["svc/web", "\(port):80", "--kubeconfig", harness.kubeconfigPath])
            try await held.close()
            let local = busy.reports.first?.checks.first { $0.check == "local_port" }
            #expect(!busy.exit && local?.status == .fail && local?.detail.contains("\(port)") == true, "\(busy.reports)")
            #expect(self.statuses(busy.reports.first)["api"] == .pass)
        }
    }
}
