import ControlAPI
import ConfigStore
import Forwarding
import Foundation
import Hummingbird
import KubeClient
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one process per user that owns every running forward: it holds the lock, serves the
/// control API on a Unix socket (mode 0600), writes each forward's live state to the store with
/// its own pid, and on start marks stopped what a dead daemon left marked running, removes the
/// relay pods a dead kfwd left in the namespaces its saved forwards use, then starts the
/// forwards saved with auto-start. It serves the web dashboard on 127.0.0.1 (see
/// ``DashboardAccess``) and keeps a log of what its forwards did. SIGTERM or SIGINT stop the
/// forwards (and their relays) before it exits.
public struct KfwdDaemon: Sendable {
    public let paths: DaemonPaths
    public let logger: Logger
    /// The dashboard's port on 127.0.0.1, over the stored setting; 0 for any free port.
    public var dashboardPort: Int?
    /// Seconds network changes must stop before clusters are probed, over the stored setting.
    public var networkSettle: Double?

    public init(paths: DaemonPaths, logger: Logger) {
        self.paths = paths
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT.
    /// - Parameter ready: called once the socket accepts requests.
    /// - Throws: ``DaemonError`` when another daemon runs, or the store or socket cannot be used.
    public func run(ready: @escaping @Sendable () -> Void = {}) async throws {
        try FileManager.default.createDirectory(atPath: self.paths.home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let lock = try DaemonLock.acquire(self.paths.lock)
        let store: ConfigStore
        do { store = try ConfigStore(path: self.paths.store) } catch { throw DaemonError(error.description) }
        let stale = try Self.storeCall { () throws(ConfigStoreError) in try store.markStoppedUnlessAlive(ProcessLiveness.isAlive) }
        if !stale.isEmpty { self.logger.info("marked stopped the forwards a daemon that no longer runs left running", metadata: ["kfwd.count": "\(stale.count)"]) }
        let settings = try Self.storeCall { () throws(ConfigStoreError) in try store.settings() }
        var relaySettings = RelaySettings()
        if let image = settings.relayImage { relaySettings.image = image }
        let supervisor = Supervisor(
            cache: KubeClientCache(logger: self.logger), relaySettings: relaySettings,
            network: NetworkWatch.Settings(settle: .milliseconds(Int((self.networkSettle ?? settings.networkSettleSeconds) * 1000))), logger: self.logger
        )
        let logger = self.logger
        let log = ForwardLog { entry in
            if entry.error { logger.warning("\(entry.text)") } else { logger.info("\(entry.text)") }
        }
        let access = DashboardAccess()
        let control = ControlService(
            store: store, supervisor: supervisor, podWait: .milliseconds(Int(settings.holdSeconds * 1000)), transport: settings.transport, log: log,
            dashboard: access,
            logger: self.logger
        )

        let socket = self.paths.socket
        let controlApp = Application(
            router: control.router(),
            configuration: ApplicationConfiguration(address: .unixDomainSocket(path: socket), serverName: "kfwd"),
            onServerRunning: { _ in
                // Only this user may drive the daemon.
                chmod(socket, 0o600)
                ready()
            },
            logger: self.logger
        )
        let dashboardPort = self.dashboardPort ?? settings.dashboardPort
        let dashboardApp = Application(
            router: DashboardRoutes(control: control, log: log, metrics: ForwardMetrics(), access: access).router(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: dashboardPort), serverName: "kfwd"),
            onServerRunning: { channel in
                access.bound(port: channel.localAddress?.port ?? dashboardPort)
                log.append(LogEntry(alias: nil, message: "dashboard on http://127.0.0.1:\(access.port ?? 0)/ (kfwd dashboard opens it with its token)"))
            },
            logger: self.logger
        )
        // Started in this order, shut down in the reverse: the servers first, then the
        // forwards (their relay pods deleted), and the recorders once the forwards' last
        // changes are written.
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(
                        service: RecorderService(control: control, log: log, updates: supervisor.updates(), logged: supervisor.updates()),
                        successTerminationBehavior: .ignore
                    ),
                    .init(service: SupervisorService(supervisor: supervisor)),
                    .init(service: StartupService(control: control), successTerminationBehavior: .ignore),
                    .init(service: SyncService(control: control, home: StoreLocation.directory()), successTerminationBehavior: .ignore),
                    // A control socket that fails stops the daemon, its forwards stopped first.
                    .init(service: controlApp, failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "control socket"),
                    // Without its port the dashboard is missing, not the daemon.
                    .init(service: DashboardService(app: dashboardApp, access: access, port: dashboardPort, log: log), successTerminationBehavior: .ignore),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: self.logger
            )
        )
        do { try await services.run() } catch { self.logger.error("the control socket or the dashboard failed: \(error)") }
        // Graceful: nothing this daemon ran is left marked as running.
        _ = try? store.markStoppedUnlessAlive { $0 != getpid() && ProcessLiveness.isAlive($0) }
        unlink(socket)
        // Held until here: the next daemon may start once this one has stopped everything.
        withExtendedLifetime(lock) {}
    }

    static func storeCall<T>(_ body: () throws(ConfigStoreError) -> T) throws(DaemonError) -> T {
        do { return try body() } catch { throw DaemonError(error.description) }
    }
}
