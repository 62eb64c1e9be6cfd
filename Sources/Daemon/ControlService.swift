import ControlAPI
import ConfigStore
import Forwarding
import Foundation
import Hummingbird
import KubeClient
import Logging
import Signals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension StatusReport: ResponseEncodable {}
extension ControlResult: ResponseEncodable {}
extension DashboardInfo: ResponseEncodable {}

/// The daemon's control API (JSON over HTTP on its Unix socket) and the bookkeeping behind it:
/// saved forwards started and stopped in the supervisor, and each status change written to the
/// store under this process's pid.
struct ControlService: Sendable {
    let store: ConfigStore
    let supervisor: Supervisor
    let podWait: Duration
    /// The protocol of saved forwards that name none (the `transport` setting).
    let transport: String
    let log: ForwardLog
    let dashboard: DashboardAccess
    let logger: Logger
    /// Fired when the saved forwards change: the dashboard's edits, and the CLI's `add`, `rm`
    /// and `import`, which write the store themselves and then say so here. What shows the
    /// saved forwards reads them again on it, never on a timer.
    let storeChanged = Ticker()
    /// The context each saved forward uses, by name.
    let contexts = ContextNames()

    /// The control socket's router.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.addRoutes(self.routes, atPath: "/v1")
        return router
    }

    /// The control API. A store that cannot be read is a 500 whose body says why.
    var routes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        routes.get("status") { _, _ in try Self.serving { () throws(ConfigStoreError) in try self.status() } }
        routes.post("start") { request, context in
            let body = try await request.decode(as: ControlRequest.self, context: context)
            return try await self.start(body)
        }
        routes.post("stop") { request, context in
            let body = try await request.decode(as: ControlRequest.self, context: context)
            return try await self.stop(body)
        }
        routes.post("restart") { request, context in
            let body = try await request.decode(as: ControlRequest.self, context: context)
            return try await self.restart(body)
        }
        routes.get("events") { request, _ in
            // Each forward's state first, then every change as it happens, one JSON object per
            // line; ends when the client goes or the daemon stops. A reader that falls far
            // behind loses the oldest lines, never the daemon's time.
            let events = self.supervisor.events(limit: 10_000)
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"],
                body: LiveResponse.body(request) { sink in
                    for await update in events { sink.yield(update) }
                } renderer: {
                    { update in ByteBuffer(string: try DashboardRoutes.encoded(ForwardEventRecord(update)) + "\n") }
                }
            )
        }
        routes.get("forwards") { request, _ in
            // Every saved forward with its live state; with `follow`, again on every change
            // (``SnapshotPacing``), one JSON object per line, until the client goes or the
            // daemon stops. What `kfwd tui` draws from.
            guard request.uri.queryParameters["follow"] == "true" else {
                return try DashboardRoutes.json(try Self.serving { () throws(ConfigStoreError) in try self.snapshot() })
            }
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"],
                body: LiveResponse.body(request) { sink in
                    await self.wakeSnapshots { sink.yield($0) }
                } renderer: {
                    var feed = SnapshotFeed(control: self)
                    return { wake in try feed.next(wake).map { ByteBuffer(string: try DashboardRoutes.encoded($0) + "\n") } }
                }
            )
        }
        routes.post("store-changed") { _, _ in
            self.storeChanged.fire()
            return HTTPResponse.Status.noContent
        }
        routes.get("dashboard") { _, _ in DashboardInfo(url: self.dashboard.url, error: self.dashboard.error) }
        routes.get("logs") { request, _ in
            let alias = request.uri.queryParameters["alias"].map(String.init)
            let follow = request.uri.queryParameters["follow"] == "true"
            let lines = self.log.lines(alias: alias, follow: follow)
            // One JSON object per line, flushed as each arrives; a follow ends when the
            // client goes or the daemon stops.
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"],
                body: LiveResponse.body(request) { sink in
                    for await entry in lines { sink.yield(entry) }
                } renderer: {
                    { entry in ByteBuffer(string: try DashboardRoutes.encoded(entry) + "\n") }
                }
            )
        }
        return routes
    }

    /// `body`, its store failure an HTTP error that names it.
    static func serving<T>(_ body: () throws(ConfigStoreError) -> T) throws(HTTPError) -> T {
        do { return try body() } catch { throw HTTPError(.internalServerError, message: error.description) }
    }

    func status() throws(ConfigStoreError) -> StatusReport {
        self.status(of: try self.store.forwards())
    }

    /// The report on these saved forwards (read once by a caller that needs them too).
    func status(of saved: [StoredForward]) -> StatusReport {
        let live = Dictionary(self.supervisor.list().map { ($0.alias, $0) }, uniquingKeysWith: { $1 })
        let forwards = saved.map { forward in
            guard let status = live[forward.alias] else { return StatusReport.Forward(alias: forward.alias) }
            return StatusReport.Forward(status, traffic: self.supervisor.traffic(forward.alias))
        }
        return StatusReport(daemon: .init(pid: getpid(), running: true), forwards: forwards)
    }

    /// Starts the forwards and answers once each is past starting (listening, waiting for a
    /// pod, or retrying and why), so that the caller can report what happened.
    func start(_ request: ControlRequest) async throws -> ControlResult {
        var result = ControlResult()
        let updates = self.supervisor.updates()
        for forward in try self.selected(request, into: &result) {
            let alias = forward.alias
            if let current = self.supervisor.status(alias), current.state != .stopped {
                result.unchanged.append(alias)
                continue
            }
            do throws(ForwardError) {
                try self.supervisor.start(try self.spec(forward))
                result.done.append(alias)
            } catch {
                result.errors.append("\(alias): \(error.message)")
            }
        }
        let starting = Set(result.done.filter { self.supervisor.status($0)?.state.name == "starting" })
        if !starting.isEmpty {
            _ = await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    var pending = starting
                    for await status in updates where pending.contains(status.alias) && status.state.name != "starting" {
                        pending.remove(status.alias)
                        if pending.isEmpty { return }
                    }
                }
                group.addTask { try? await Task.sleep(for: .seconds(30)) }
                await group.next()
                group.cancelAll()
            }
        }
        result.details = result.done.compactMap { alias in
            self.supervisor.status(alias).map { status in
                let sockets = status.listening.map(\.description).joined(separator: ", ")
                let reason = status.state.reason.map { ": \($0.message)" } ?? ""
                return "\(alias): \(status.state.name)\(reason)\(sockets.isEmpty ? "" : ", listening on \(sockets)")"
            }
        }
        // One that could not listen (a port held by another process) runs and retries, but has
        // not started: its detail line says why, without "Started" above it.
        result.done.removeAll { self.supervisor.status($0)?.state.name == "retrying" }
        return result
    }

    /// Restarts running forwards (ports and sessions closed and opened again) with what is
    /// saved now: a forward changed in the store since it started is reloaded with its new
    /// spec. Stopped ones start, as ``start(_:)`` starts them.
    func restart(_ request: ControlRequest) async throws -> ControlResult {
        var result = ControlResult()
        var stopped: [String] = []
        for forward in try self.selected(request, into: &result) {
            guard let current = self.supervisor.status(forward.alias), current.state != .stopped else {
                stopped.append(forward.alias)
                continue
            }
            do throws(ForwardError) {
                let spec = try self.spec(forward)
                if self.supervisor.spec(forward.alias) == spec { self.supervisor.restart(forward.alias) } else { self.supervisor.reload(spec) }
                result.done.append(forward.alias)
            } catch {
                result.errors.append("\(forward.alias): \(error.message)")
            }
        }
        guard !stopped.isEmpty else { return result }
        let started = try await self.start(ControlRequest(aliases: stopped))
        result.done += started.done
        result.errors += started.errors
        result.details += started.details
        return result
    }

    func stop(_ request: ControlRequest) async throws -> ControlResult {
        var result = ControlResult()
        for alias in try self.selected(request, into: &result).map(\.alias) {
            guard let current = self.supervisor.status(alias), current.state != .stopped else {
                result.unchanged.append(alias)
                continue
            }
            await self.supervisor.stop(alias)
            result.done.append(alias)
        }
        return result
    }

    /// What a saved forward runs as, with the daemon's settings for what it leaves out.
    func spec(_ forward: StoredForward) throws(ForwardError) -> ForwardSpec {
        try forward.native().forwardSpec(alias: forward.alias, podWait: self.podWait, transport: self.transport)
    }

    /// The saved forwards a request names; unknown aliases become errors.
    private func selected(_ request: ControlRequest, into result: inout ControlResult) throws -> [StoredForward] {
        let saved = try Self.serving { () throws(ConfigStoreError) in try self.store.forwards() }
        if request.all { return saved }
        var chosen: [StoredForward] = []
        for alias in request.aliases {
            if let forward = saved.first(where: { $0.alias == alias }) {
                chosen.append(forward)
            } else {
                result.errors.append(ControlResult.unknownAlias(alias))
            }
        }
        return chosen
    }

    /// Starts the forwards saved with auto-start.
    func startAutoStart() async {
        guard let saved = try? self.store.forwards() else { return }
        let aliases = saved.filter(\.autoStart).map(\.alias)
        guard !aliases.isEmpty else { return }
        let result = (try? await self.start(ControlRequest(aliases: aliases))) ?? ControlResult()
        for error in result.errors { self.logger.error("auto-start: \(error)") }
    }

    /// Removes the relays a dead kfwd left in the namespaces the saved relay forwards use (UDP,
    /// `proxy`), before anything is started there.
    func removeStaleRelays() async {
        guard let saved = try? self.store.forwards() else { return }
        struct Place: Hashable {
            let context: KubeContext
            let namespace: String
        }
        var seen: Set<Place> = []
        for forward in saved {
            guard let spec = try? self.spec(forward), spec.udp || spec.target.needsRelay,
                let context = try? spec.kubeconfigSource.resolve()
            else { continue }
            let namespace = spec.namespace ?? context.namespace
            guard seen.insert(Place(context: context, namespace: namespace)).inserted else { continue }
            await self.supervisor.relays.removeStale(context: context, namespace: namespace)
        }
    }

    /// Writes each change of a forward's state to the store, until cancelled. A change of its
    /// connection count (or bytes) alone is not written (the supervisor reports one per local
    /// connection, and a SQLite write each would sit on every connection's path); the count
    /// is written with the next state change, and `kfwd status` reads it live.
    func record(_ updates: AsyncStream<ForwardStatus>) async {
        let pid = getpid()
        var written: [String: ForwardStatus] = [:]
        for await status in updates {
            var counted = status
            counted.connections = written[status.alias]?.connections ?? status.connections
            counted.failedConnections = written[status.alias]?.failedConnections ?? status.failedConnections
            guard written[status.alias] != counted else { continue }
            written[status.alias] = status
            guard let id = try? self.store.forward(alias: status.alias)?.id else { continue }
            let report = StatusReport.Forward(status, traffic: self.supervisor.traffic(status.alias))
            let record = ForwardStateRecord(
                forwardID: id, ownerPID: pid, status: report.status, pods: report.pods, since: status.since, lastError: report.reason ?? report.lastError,
                retryCount: report.retries, bytes: report.bytesToCluster + report.bytesFromCluster, connections: Int64(report.connections)
            )
            do throws(ConfigStoreError) { try self.store.record(record) } catch {
                self.logger.warning("cannot record a forward's state", metadata: ["kfwd.forward": "\(status.alias)", "error": "\(error)"])
            }
        }
    }
}
