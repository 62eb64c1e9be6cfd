import ConfigStore
import Forwarding
import Foundation
import Subprocess
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The daemon's web dashboard and what it shares with the CLI: the token, the Host check and
/// CSRF refusals as curl sees them, the API, server-sent events, `/metrics`, and `kfwd logs`.
@Suite struct DashboardTests {
    struct Dashboard: Sendable {
        let base: String
        let port: Int
        let token: String
        var bearer: [String] { ["-H", "Authorization: Bearer \(self.token)"] }
    }

    /// A daemon with `web` saved (not started), and its dashboard from `kfwd dashboard`.
    static func withDaemon<T: Sendable>(_ body: @Sendable (SimHarness, String, Dashboard, Int32) async throws -> T) async throws -> T {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await StoreCommandTests.withHome { home in
                #expect(try await StoreCommandTests.kfwd(home, ["add", "web", "svc/web", ":80", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                let printed = try await StoreCommandTests.kfwd(home, ["dashboard", "--print-url"])
                #expect(printed.succeeded, "\(printed.stderr)")
                let url = try #require(URLComponents(string: printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(printed.stdout)")
                #expect(url.host == "127.0.0.1" && url.path == "/")
                let token = try #require(url.queryItems?.first { $0.name == "token" }?.value)
                let port = try #require(url.port)
                let pid = try #require(try await DaemonTests.status(home).daemon.pid)
                defer { kill(pid, SIGKILL) }
                return try await body(harness, home, Dashboard(base: "http://127.0.0.1:\(port)", port: port, token: token), pid)
            }
        }
    }

    /// What a browser script said, by first word (`state running` is `["state": "running"]`).
    static func said(_ output: String) -> [String: String] {
        Dictionary(
            output.split(separator: "\n").map { line in
                let words = line.split(separator: " ", maxSplits: 1)
                return (String(words[0]), words.count > 1 ? String(words[1]) : "")
            },
            uniquingKeysWith: { $1 }
        )
    }

    /// The status code curl got, and the body.
    static func curl(_ arguments: [String]) async throws -> (code: String, body: String) {
        let result = try await runCommand("curl", ["-s", "--max-time", "20", "-w", "\n%{http_code}"] + arguments)
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let code = String(lines.popLast() ?? "")
        return (code, lines.joined(separator: "\n"))
    }

    @Test func withoutTheTokenFromAForeignHostOrCrossSiteNothingIsServedOrChanged() async throws {
        try await Self.withDaemon { harness, home, dashboard, _ in
            #expect(try await StoreCommandTests.kfwd(home, ["start", "web"]).succeeded)
            _ = try await DaemonTests.status(home) { $0.forwards.first?.status == "running" }
            let base = dashboard.base

            // No token, a wrong one: refused, and the refusal says how to get in.
            let bare = try await Self.curl(["\(base)/api/forwards"])
            #expect(bare.code == "401")
            #expect(bare.body.contains("run kfwd dashboard"))
            #expect(try await Self.curl(["\(base)/?token=\(String(repeating: "0", count: 64))"]).code == "401")
            #expect(try await Self.curl(["-H", "Authorization: Bearer nope", "\(base)/metrics"]).code == "401")

            // DNS rebinding: the right token through a name that is not this dashboard.
            let rebound = try await Self.curl(dashboard.bearer + ["-H", "Host: attacker.example:\(dashboard.port)", "\(base)/api/forwards"])
            #expect(rebound.code == "403")
            #expect(rebound.body.contains("Host 'attacker.example:\(dashboard.port)' is not this dashboard"))
            #expect(try await Self.curl(dashboard.bearer + ["-H", "Host: localhost:\(dashboard.port)", "\(base)/api/forwards"]).code == "200")

            // The token in the URL becomes a cookie (HttpOnly, SameSite=Strict) and leaves the URL.
            let jar = try harness.write("cookies", "")
            let login = try await runCommand("curl", ["-s", "-D", "-", "-o", "/dev/null", "-c", jar, "\(base)/?token=\(dashboard.token)"])
            let headers = login.stdout.lowercased()
            #expect(headers.hasPrefix("http/1.1 303"), "\(login.stdout)")
            #expect(headers.contains("location: /\r\n"))
            #expect(headers.contains("set-cookie: kfwd_dashboard_\(dashboard.port)=\(dashboard.token)"))
            #expect(headers.contains("httponly") && headers.contains("samesite=strict"))
            let page = try await Self.curl(["-b", jar, "\(base)/"])
            #expect(page.code == "200")
            let csrf = try #require(page.body.firstMatch(of: /name="kfwd-csrf" content="([0-9a-f]{64})"/)?.1).description
            #expect(csrf != dashboard.token)

            // Cross-site requests carry the cookie but cannot change anything.
            let stop = ["-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"aliases":["web"],"all":false}"#, "\(base)/api/stop"]
            let crossSite = try await Self.curl(["-b", jar, "-H", "Origin: https://attacker.example"] + stop)
            #expect(crossSite.code == "403")
            let noHeader = try await Self.curl(["-b", jar] + stop)
            #expect(noHeader.code == "403")
            #expect(noHeader.body.contains("CSRF"))
            #expect(try await Self.curl(["-b", jar, "-H", "Origin: https://attacker.example", "-H", "X-Kfwd-CSRF: \(csrf)"] + stop).code == "403")
            #expect(try await DaemonTests.status(home).forwards.map(\.status) == ["running"])

            // The dashboard's own page does it.
            let own = try await Self.curl(["-b", jar, "-H", "Origin: \(base)", "-H", "X-Kfwd-CSRF: \(csrf)"] + stop)
            #expect(own.code == "200", "\(own.body)")
            #expect(own.body.contains(#""done":["web"]"#))
            #expect(try await DaemonTests.status(home).forwards.map(\.status) == ["stopped"])
        }
    }

    @Test func theAPIAddsEditsDeletesAndReportsBytesMetricsAndLogs() async throws {
        try await Self.withDaemon { harness, home, dashboard, _ in
            let base = dashboard.base
            let json = dashboard.bearer + ["-H", "Content-Type: application/json"]
            #expect(try await Self.curl(json + ["-d", #"{"aliases":["web"]}"#, "\(base)/api/start"]).code == "200")
            let running = try await DaemonTests.status(home) { $0.forwards.first?.status == "running" }
            let listening = try #require(running.forwards.first?.listening.first)
            for _ in 0..<5 { #expect(try await DaemonTests.answers(listening)) }

            // Bytes and connections, the same in kfwd status and /metrics. Connections are
            // counted as they are reported, a batch at a time: asked until all five are.
            var forward: [String: Any]?
            for _ in 0..<200 {
                let report = try await runCommand(kfwdPath, ["status", "--json"], environment: ["KFWD_HOME": home])
                forward = try #require((try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["forwards"] as? [[String: Any]]).first
                if (forward?["connections"] as? Int ?? 0) >= 5 { break }
            }
            #expect((forward?["connections"] as? Int ?? 0) >= 5)
            #expect((forward?["bytes_to_cluster"] as? Int ?? 0) > 5 * 60)
            #expect((forward?["bytes_from_cluster"] as? Int ?? 0) > 5 * 20)
            let metrics = try await Self.curl(dashboard.bearer + ["\(base)/metrics"])
            #expect(metrics.code == "200")
            func sample(_ series: String) -> Double? {
                metrics.body.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            #expect(sample(#"kfwd_forward_state{alias="web",state="running"}"#) == 1)
            #expect(sample(#"kfwd_forward_state{alias="web",state="stopped"}"#) == 0)
            #expect(sample(#"kfwd_forward_pods{alias="web"}"#) == 2)
            #expect((sample(#"kfwd_forward_connections_total{alias="web"}"#) ?? 0) >= 5)
            #expect((sample(#"kfwd_forward_bytes_total{alias="web",direction="to_cluster"}"#) ?? 0) == Double(forward?["bytes_to_cluster"] as? Int ?? -1))
            #expect((sample(#"kfwd_forward_bytes_total{alias="web",direction="from_cluster"}"#) ?? 0) > 0)
            #expect(metrics.body.contains("# TYPE kfwd_forward_bytes_total counter"))

            // A refused edit of a running forward leaves it running as it was.
            let refused = try await Self.curl(json + ["-X", "PUT", "-d", #"{"config":{"alias":"web","workload_type":"service","service":"web","local_port":0}}"#, "\(base)/api/forwards/web"])
            #expect(refused.code == "400")
            #expect(refused.body.contains("namespace"), "\(refused.body)")
            let after = try await DaemonTests.status(home) { $0.forwards.first?.status == "running" }
            #expect(try await DaemonTests.answers(after.forwards.first?.listening.first))

            // Add, a bad add that changes nothing, edit, delete.
            let added = try await Self.curl(json + ["-d", #"{"config":{"alias":"db","workload_type":"service","service":"web","namespace":"default","local_port":0,"remote_port":80}}"#, "\(base)/api/forwards"])
            #expect(added.code == "200", "\(added.body)")
            let bad = try await Self.curl(json + ["-d", #"{"config":{"alias":"bad","workload_type":"service","service":"web","local_port":0,"remote_port":80}}"#, "\(base)/api/forwards"])
            #expect(bad.code == "400")
            #expect(bad.body.contains("namespace"), "\(bad.body)")
            let edited = try await Self.curl(json + ["-X", "PUT", "-d", #"{"config":{"alias":"db","workload_type":"service","service":"web","namespace":"default","local_port":0,"remote_port":8080},"auto_start":true}"#, "\(base)/api/forwards/db"])
            #expect(edited.code == "200", "\(edited.body)")
            let listed = try await StoreCommandTests.kfwd(home, ["list", "-o", "json"])
            #expect(listed.stdout.contains("\"db\"") && !listed.stdout.contains("\"bad\""))
            let snapshot = try await Self.curl(dashboard.bearer + ["\(base)/api/forwards"])
            #expect(snapshot.body.contains(#""alias":"db","auto_start":true"#), "\(snapshot.body)")
            #expect(snapshot.body.contains(#""ports":"0:8080""#))
            #expect(try await Self.curl(dashboard.bearer + ["-X", "DELETE", "\(base)/api/forwards/db"]).code == "200")
            #expect(try await Self.curl(dashboard.bearer + ["-X", "DELETE", "\(base)/api/forwards/db"]).code == "400")

            // Export, and the same file imported back changes nothing.
            let exported = try await Self.curl(dashboard.bearer + ["\(base)/api/export"])
            #expect(exported.body.contains(#""alias""#) && exported.body.contains("web"))
            let file = try harness.write("export.json", exported.body)
            let imported = try await Self.curl(json + ["--data-binary", "@\(file)", "\(base)/api/import"])
            #expect(imported.body == #"{"added":[],"unchanged":["web"],"updated":[]}"#, "\(imported.body)")

            // The log, from kfwd logs, for one forward and followed.
            let logs = try await StoreCommandTests.kfwd(home, ["logs", "web"])
            #expect(logs.stdout.contains("web: ready, new connections go to web-"), "\(logs.stdout)")
            #expect(!logs.stdout.contains("db:"))
            let unknown = try await StoreCommandTests.kfwd(home, ["logs", "nosuch"])
            #expect(unknown.status == .exited(1))
            #expect(unknown.stderr.contains("no forward is saved as 'nosuch'"))
            var stopped = false
            let followed = try await streamLines(kfwdPath, ["logs", "-f", "web"], environment: ["KFWD_HOME": home]) { line in
                if line.contains("web: ready"), !stopped {
                    stopped = true
                    let stop = try await StoreCommandTests.kfwd(home, ["stop", "web"])
                    #expect(stop.succeeded)
                }
                return !line.hasSuffix("web: stopped")
            }
            #expect(followed.lines.last?.hasSuffix("web: stopped") == true, "\(followed.lines)")
        }
    }

    @Test func eventsStreamLiveStateAndEndWhenTheDaemonStops() async throws {
        try await Self.withDaemon { harness, home, dashboard, pid in
            var snapshots: [String] = []
            var added = false
            // Bounded: a stream whose snapshots stop coming ends the test instead of holding it.
            let events = try await streamLines("curl", ["-s", "-N", "--max-time", "60"] + dashboard.bearer + ["\(dashboard.base)/api/events"]) { line in
                guard line.hasPrefix("data: {\"daemon_pid\"") else { return true }
                snapshots.append(line)
                if snapshots.count == 1 {
                    #expect(line.contains(#""status":"stopped""#))
                    // A forward saved with the CLI shows at once: the CLI tells the daemon, which
                    // reads the store again (it does not poll it).
                    #expect(try await StoreCommandTests.kfwd(home, ["add", "api", "deploy/web", ":8080", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                } else if !added, line.contains(#""alias":"api""#) {
                    added = true
                    #expect(line.contains(#""target":"deploy/web""#), "\(line)")
                    let start = try await StoreCommandTests.kfwd(home, ["start", "web"])
                    #expect(start.succeeded)
                } else if added, line.contains(#""status":"running""#), line.contains(#""pods":["web-"#) {
                    // A stream that stays open must not hold the daemon's shutdown.
                    kill(pid, SIGTERM)
                }
                return true
            }
            #expect(events.lines.contains("event: forwards"))
            #expect(added, "the forward the CLI saved never showed: \(snapshots)")
            #expect(snapshots.contains { $0.contains(#""context":"kubesim""#) && $0.contains(#""status":"running""#) }, "\(snapshots)")
            #expect(try await DaemonTests.status(home) { !$0.daemon.running }.forwards.map(\.status) == ["stopped", "stopped"])
        }
    }

    @Test func completionScriptsComeFromTheCLI() async throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try await runCommand(kfwdPath, ["--generate-completion-script", shell])
            #expect(script.succeeded)
            #expect(script.stdout.contains("dashboard") && script.stdout.contains("logs"), "\(shell)")
        }
    }
}

/// The dashboard in a real browser: Debian's Chromium, driven by selenium through
/// chromedriver (`interop/dashboard_browser.py`), as a user would use it.
@Suite struct DashboardBrowserTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop/dashboard_browser.py").path

    @Test func startAForwardSeeItsPodsChangeLiveAfterAForcedDeletionStopItAddAndDeleteAnother() async throws {
        try await DashboardTests.withDaemon { harness, home, dashboard, _ in
            let url = "\(dashboard.base)/?token=\(dashboard.token)"
            let run = try await runCommand("python3", [Self.script, url, harness.kubeconfigPath])
            #expect(run.succeeded, "\(run.stdout)\n\(run.stderr)")
            let said = DashboardTests.said(run.stdout)
            // The token left the address bar for a cookie.
            #expect(said["address"] == "\(dashboard.base)/", "\(run.stdout)")
            // Saved without a context: the group is its kubeconfig's current context, by name.
            #expect(said["context"] == "Context: kubesim")
            #expect(said["state"] == "stopped")
            let saved = try ConfigStore(environment: ["KFWD_HOME": home]).forward(alias: "web")
            #expect(saved?.autoStart == true)
            #expect(saved?.config.kubeconfig == harness.kubeconfigPath)
            let before = Set(said["running"]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [])
            let after = Set(said["moved"]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [])
            #expect(before.count == 2 && after.count == 2, "\(run.stdout)")
            #expect(before.isDisjoint(with: after))
            #expect(said["stopped"] == "stopped")
            #expect(said["log"] == "web: stopped")
            #expect(said["added"] == "svc/web (default)")
            #expect(said["deleted"] == "api")
            #expect(try await DaemonTests.status(home).forwards.map(\.alias) == ["web"])
            #expect(try await DaemonTests.status(home).forwards.map(\.status) == ["stopped"])
            // The move to new pods counts as a reconnect, in kfwd status as on the page.
            let report = try await runCommand(kfwdPath, ["status", "--json"], environment: ["KFWD_HOME": home])
            let forward = (try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["forwards"] as? [[String: Any]]
            #expect((forward?.first?["reconnects"] as? Int ?? 0) >= 1, "\(report.stdout)")
        }
    }
}

/// `kfwd settings`: what the daemon reads at start, each value checked as its field requires.
@Suite struct SettingsCommandTests {
    @Test func settingsAreCheckedSavedAndTheDaemonTakesItsDashboardPortFromThem() async throws {
        try await StoreCommandTests.withHome { home in
            let kfwd = { (arguments: [String]) in
                // An empty KFWD_DASHBOARD_PORT is unset: the setting decides.
                try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home, "KFWD_DASHBOARD_PORT": ""])
            }
            let unknown = try await kfwd(["settings", "set", "dashbord_port", "9000"])
            #expect(unknown.status == .exited(1))
            #expect(unknown.stderr.contains("no setting is named 'dashbord_port': the settings are hold_seconds, transport, relay_image, dashboard_port"), "\(unknown.stderr)")
            let badPort = try await kfwd(["settings", "set", "dashboard_port", "70000"])
            #expect(badPort.status == .exited(1))
            #expect(badPort.stderr.contains("setting dashboard_port cannot be '70000': it takes a port, 0 to 65535"))
            #expect(try await kfwd(["settings", "set", "transport", "carrier-pigeon"]).stderr.contains("auto, tunnel, spdy or websocket"))
            #expect(try await kfwd(["settings"]).stdout.contains("dashboard_port = 8787\n"))

            let port = try await freeLoopbackPort()
            #expect(try await kfwd(["settings", "set", "dashboard_port", String(port)]).succeeded)
            #expect(try await kfwd(["settings", "set", "relay_image", "registry.example/relay:1"]).succeeded)
            let shown = try await kfwd(["settings"]).stdout
            #expect(shown.contains("dashboard_port = \(port)\n") && shown.contains("relay_image = registry.example/relay:1\n"), "\(shown)")
            #expect(try await kfwd(["settings", "set", "relay_image", "default"]).succeeded)
            #expect(try await kfwd(["settings", "show", "-o", "json"]).stdout.contains("\"dashboard_port\" : \(port)"))
            #expect(!(try await kfwd(["settings"]).stdout.contains("registry.example")))

            let dashboard = try await kfwd(["dashboard", "--print-url"])
            let pid = try #require(try await DaemonTests.status(home).daemon.pid)
            defer { kill(pid, SIGTERM) }
            #expect(dashboard.stdout.hasPrefix("http://127.0.0.1:\(port)/?token="), "\(dashboard.stdout) \(dashboard.stderr)")
        }
    }
}

/// The dashboard's team features, in Chromium: forwards grouped by tag, the filter, and the
/// forwards the cluster's Services propose, previewed and imported.
@Suite struct DashboardTeamTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop/dashboard_teams.py").path

    /// A Service `docs` over the web pods that proposes one forward in kfwd's annotation.
    static let annotatedService = """

        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: docs
          namespace: default
          annotations: {kfwd.dev/forwards: '[{alias: docs, ports: ["0:http"], tags: [docs]}]'}
        spec:
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}]
        """

    static let manifest = webManifest + annotatedService

    @Test func tagsGroupAndFilterAndTheClustersProposalsImportAfterAPreview() async throws {
        try await SimHarness.run(manifest: Self.manifest) { harness in
            try await StoreCommandTests.withHome { home in
                // The daemon discovers with its own kubeconfig: the one it was started with.
                let environment = ["KFWD_HOME": home, "KUBECONFIG": harness.kubeconfigPath]
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: environment) }
                #expect(try await kfwd(["add", "web", "svc/web", ":80", "--tag", "front"]).succeeded)
                #expect(try await kfwd(["add", "db", "deploy/web", ":8080", "--tag", "data"]).succeeded)
                #expect(try await kfwd(["add", "cache", "svc/web", ":80"]).succeeded)
                let printed = try await kfwd(["dashboard", "--print-url"])
                #expect(printed.succeeded, "\(printed.stderr)")
                let pid = try #require(try await DaemonTests.status(home).daemon.pid)
                defer { kill(pid, SIGKILL) }
                let run = try await runCommand("python3", [Self.script, printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
                #expect(run.succeeded, "\(run.stdout)\n\(run.stderr)")
                let said = DashboardTests.said(run.stdout)
                #expect(said["groups"] == "Context: kubesim", "\(run.stdout)")
                #expect(said["tag-groups"] == "Tag: #front|Tag: #data|Tag: untagged", "in the order the forwards were saved: \(run.stdout)")
                #expect(said["tags"] == "data")
                #expect(said["filtered"] == "db")
                #expect(said["preview"] == "Context kubesim: 1 proposed|add: docs", "\(run.stdout)")
                #expect(said["before-import"] == "cache,db,web", "a preview saves nothing")
                #expect(said["imported"] == "cache,db,docs,web")
                let saved = try ConfigStore(environment: ["KFWD_HOME": home]).forward(alias: "docs")
                #expect(try saved?.native().tags == ["docs"] && saved?.spec?.target == "svc/docs", "\(String(describing: saved))")
            }
        }
    }
}
