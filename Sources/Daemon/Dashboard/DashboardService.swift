import ControlAPI
import Hummingbird
import ServiceLifecycle

/// Runs the dashboard's server and, when it cannot (its port is taken), says why in the log
/// and in `kfwd dashboard` instead of taking the daemon down.
struct DashboardService: Service {
    let app: Application<RouterResponder<BasicRequestContext>>
    let access: DashboardAccess
    let port: Int
    let log: ForwardLog

    func run() async throws {
        do {
            try await self.app.run()
        } catch {
            let reason = "the dashboard cannot listen on 127.0.0.1:\(self.port) (\(error)); set another port with KFWD_DASHBOARD_PORT or the dashboard_port setting"
            self.access.failed(reason)
            self.log.append(LogEntry(alias: nil, error: true, message: reason))
        }
    }
}
