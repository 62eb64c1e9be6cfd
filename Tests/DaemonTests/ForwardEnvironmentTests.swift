import ControlAPI
import Foundation
import Testing

/// `kfwd env`'s variables from a status report, and their three formats; no daemon.
@Suite struct ForwardEnvironmentTests {
    private let report = StatusReport(
        daemon: StatusReport.DaemonInfo(pid: 1, running: true),
        forwards: [
            StatusReport.Forward(alias: "web", status: "running", listening: ["[::1]:8080", "127.0.0.1:8080"]),
            StatusReport.Forward(alias: "orders-db", status: "running", listening: ["127.34.2.9:5432"]),
            StatusReport.Forward(alias: "idle", status: "stopped"),
            StatusReport.Forward(alias: "v6", status: "waiting", listening: ["[::1]:9000"]),
        ]
    )

    @Test func eachListeningForwardGetsHostPortAndURL() {
        let environment = ForwardEnvironment(self.report, prefix: "KFWD_")
        #expect(environment.variables.map(\.name) == [
            "KFWD_WEB_HOST", "KFWD_WEB_PORT", "KFWD_WEB_URL", "KFWD_ORDERS_DB_HOST", "KFWD_ORDERS_DB_PORT", "KFWD_ORDERS_DB_URL",
            "KFWD_V6_HOST", "KFWD_V6_PORT", "KFWD_V6_URL",
        ])
        #expect(environment.render(.dotenv).hasPrefix("KFWD_WEB_HOST=127.0.0.1\nKFWD_WEB_PORT=8080\nKFWD_WEB_URL=http://127.0.0.1:8080\n"))
        #expect(environment.render(.dotenv).contains("KFWD_V6_HOST=::1\nKFWD_V6_PORT=9000\nKFWD_V6_URL=http://[::1]:9000\n"))
        #expect(environment.render(.shell).hasPrefix("export KFWD_WEB_HOST='127.0.0.1'\n"))
        let json = try? JSONSerialization.jsonObject(with: Data(environment.render(.json).utf8)) as? [String: String]
        #expect(json?["KFWD_ORDERS_DB_URL"] == "http://127.34.2.9:5432" && json?.count == 9)
        #expect(ForwardEnvironment(self.report) { $0 == "web" }.variables.count == 3)
        #expect(ForwardEnvironment(StatusReport(daemon: .init(pid: nil, running: false), forwards: [])).render(.json) == "{}\n")
    }
}
