import ControlAPI
import ConfigStore
import Forwarding
import Foundation
import HTTPTypes
import Hummingbird
import Signals

/// The dashboard's page and API, all behind ``DashboardGuard``: the forwards grouped by context
/// with live state over server-sent events, start and stop, add, edit and delete, kftray
/// import and export, the log, and `/metrics`.
struct DashboardRoutes: Sendable {
    /// A body the dashboard sends to add or edit a forward.
    struct Edit: Codable, Sendable {
        var config: KftrayConfig
        var autoStart: Bool?

        enum CodingKeys: String, CodingKey {
            case config
            case autoStart = "auto_start"
        }
    }

    /// The body of `POST /api/discover`: `{"import": true}` saves what is found.
    struct Discover: Codable, Sendable {
        var save: Bool?

        enum CodingKeys: String, CodingKey {
            case save = "import"
        }
    }

    /// What the cluster's Services propose (in the daemon's kubeconfig's current context, every
    /// namespace the user may list), what saving them does or would do, and what was passed over.
    struct Discovered: Encodable, Sendable {
        var context: String
        var proposals: [ServiceDiscovery.Proposal]
        var added: [String]
        var updated: [String]
        var unchanged: [String]
        var notes: [String]
        var saved: Bool
    }

    /// Problems with what was sent, one per line, for the page to show.
    struct Problems: Codable, Sendable {
        var errors: [String]
    }

    let control: ControlService
    let log: ForwardLog
    let metrics: ForwardMetrics
    let access: DashboardAccess

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: DashboardGuard(access: self.access))
        router.get("/") { _, _ in self.page(DashboardPage.html) }
        router.get("/app.js") { _, _ in Self.asset(DashboardPage.script, type: "text/javascript; charset=utf-8") }
        router.get("/app.css") { _, _ in Self.asset(DashboardPage.style, type: "text/css; charset=utf-8") }
        router.get("/api/forwards") { _, _ in try Self.json(try self.control.snapshot()) }
        router.get("/api/events") { request, _ in self.events(request) }
        router.get("/api/logs") { request, _ in
            try Self.json(self.log.kept(alias: request.uri.queryParameters["alias"].map(String.init), last: 500))
        }
        router.post("/api/start") { request, context in
            try Self.json(try await self.control.start(try await request.decode(as: ControlRequest.self, context: context)))
        }
        router.post("/api/stop") { request, context in
            try Self.json(try await self.control.stop(try await request.decode(as: ControlRequest.self, context: context)))
        }
        router.post("/api/forwards") { request, context in
            let edit = try await request.decode(as: Edit.self, context: context)
            let alias = edit.config.effectiveAlias
            return try await self.changing { () throws(ConfigStoreError) in
                try self.control.store.add(edit.config, alias: alias, autoStart: edit.autoStart ?? false)
            }
        }
        router.put("/api/forwards/:alias") { request, context in
            let alias = try context.parameters.require("alias")
            let edit = try await request.decode(as: Edit.self, context: context)
            if let existing = try? self.control.store.forward(alias: alias), existing.exportable == nil {
                // The form holds kftray's fields: saving it would drop what kftray's format has
                // no field for.
                throw HTTPError(
                    .conflict,
                    message: "\(alias) has settings the form does not hold (a Deployment or pod target, several ports, sticky, pod wait, tags): change it with kfwd rm and kfwd add"
                )
            }
            // A running forward restarts with what was saved (the same forward, reloaded; as a
            // new one when it was renamed); a stopped one stays stopped, and one whose edit is
            // refused runs on as it was.
            let wasRunning = self.control.supervisor.status(alias).map { $0.state != .stopped } ?? false
            var saved: StoredForward?
            let response = try await self.changing { () throws(ConfigStoreError) in
                saved = try self.control.store.replace(alias: alias, with: edit.config, autoStart: edit.autoStart ?? false)
                return saved
            }
            guard wasRunning, let saved else { return response }
            if saved.alias == alias, let spec = try? self.control.spec(saved) {
                self.control.supervisor.reload(spec)
            } else {
                await self.control.supervisor.stop(alias)
                _ = try await self.control.start(ControlRequest(aliases: [saved.alias]))
            }
            return response
        }
        router.delete("/api/forwards/:alias") { _, context in
            let alias = try context.parameters.require("alias")
            await self.control.supervisor.stop(alias)
            return try await self.changing { () throws(ConfigStoreError) in
                try self.control.store.remove(aliases: [alias])
                return ["removed": alias]
            }
        }
        router.post("/api/import") { request, _ in
            let body = try await request.body.collect(upTo: 16 << 20)
            return try await self.changing { () throws(ConfigStoreError) in try self.control.store.importKftray(Data(buffer: body)) }
        }
        router.post("/api/discover") { request, context in
            let save = try await request.decode(as: Discover.self, context: context).save ?? false
            let context: String, found: ServiceDiscovery.Found
            do throws(ForwardError) {
                (context, found) = try await ServiceDiscovery.discover(KubeconfigSource(), in: .all)
            } catch {
                var response = try Self.json(Problems(errors: [error.message]))
                response.status = .badRequest
                return response
            }
            // Saved as kfwd discover --import saves them; without import, the same save rolled back.
            return try await self.changing(fire: save) { () throws(ConfigStoreError) in
                let summary = try self.control.store.save(found.proposals, dryRun: !save)
                return Discovered(
                    context: context, proposals: found.proposals, added: summary.added, updated: summary.updated, unchanged: summary.unchanged,
                    notes: found.problems, saved: save
                )
            }
        }
        router.get("/api/export") { _, _ in
            // Forwards kftray's format cannot hold are left out (the CLI's export names them).
            let data = try self.control.store.exportKftray().data
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .contentDisposition: "attachment; filename=\"kfwd-forwards.json\""],
                body: ResponseBody(byteBuffer: ByteBuffer(data: data))
            )
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.metrics.render(try self.control.status())))
            )
        }
        return router
    }

    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!

    /// Server-sent events: `forwards` with the whole snapshot whenever it changes (at once on a
    /// status change or a change of the saved forwards, within a second for byte counts;
    /// ``SnapshotPacing``), and `log` for each new log line. Ends when the browser goes or the
    /// daemon shuts down.
    private func events(_ request: Request) -> Response {
        enum Wake: Sendable {
            case forwards(SnapshotPacing.Wake)
            case log(LogEntry)
        }
        let lines = self.log.lines(alias: nil, last: 0, follow: true)
        let control = self.control
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: LiveResponse.body(request) { (wake: AsyncStream<Wake>.Continuation) in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await control.wakeSnapshots { wake.yield(.forwards($0)) } }
                    // The log's end (the daemon stopping) ends the stream.
                    for await entry in lines { wake.yield(.log(entry)) }
                    group.cancelAll()
                }
            } renderer: {
                var feed = SnapshotFeed(control: control)
                return { event in
                    switch event {
                    case .log(let entry):
                        return ByteBuffer(string: "event: log\ndata: \(try Self.encoded(entry))\n\n")
                    case .forwards(let wake):
                        guard let snapshot = try feed.next(wake) else { return nil }
                        return ByteBuffer(string: "event: forwards\ndata: \(try Self.encoded(snapshot))\n\n")
                    }
                }
            }
        )
    }

    /// Runs a change of the saved forwards: its result as JSON, or 400 with each problem.
    /// - Parameter fire: whether it changed them (a preview does not).
    private func changing<T: Encodable>(fire: Bool = true, _ body: () throws(ConfigStoreError) -> T) async throws -> Response {
        do {
            let response = try Self.json(try body())
            if fire { self.control.storeChanged.fire() }
            return response
        } catch let error as ConfigStoreError {
            var response = try Self.json(Problems(errors: error.problems))
            response.status = .badRequest
            return response
        }
    }

    private func page(_ html: String) -> Response {
        let page = html.replacingOccurrences(of: "{{csrf}}", with: self.access.csrfToken)
        return Self.asset(page, type: "text/html; charset=utf-8")
    }

    private static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "no-store", Self.contentSecurityPolicy: "default-src 'self'; frame-ancestors 'none'"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    static func encoded(_ value: some Encodable) throws -> String {
        String(decoding: try StatusReport.compactEncoder.encode(value), as: UTF8.self)
    }

    static func json(_ value: some Encodable) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(data: try StatusReport.compactEncoder.encode(value)))
        )
    }
}
