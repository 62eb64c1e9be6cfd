import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// One client connection to the API server: authenticates each request, answers it from the
/// ``ClusterAPI``, and streams watches as newline-delimited JSON over a chunked response.
final class APIHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private struct ActiveWatch {
        let id: UInt64?
        let timeout: Scheduled<Void>?
        let bookmarks: RepeatedTask?
    }

    private let api: ClusterAPI
    private let authenticator: Authenticator
    private let hooks: ServerHooks
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var watch: ActiveWatch?
    private var lastResourceVersion = "0"

    init(api: ClusterAPI, authenticator: Authenticator, hooks: ServerHooks, logger: Logger) {
        self.api = api
        self.authenticator = authenticator
        self.hooks = hooks
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body.clear()
        case .body(var chunk):
            self.body.writeBuffer(&chunk)
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let delay = self.hooks.responseDelay
            if delay > .zero {
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: TimeAmount(delay)) {
                    loopBound.value.0.serve(context: loopBound.value.1, head: head)
                }
            } else {
                self.serve(context: context, head: head)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stopWatch()
        context.fireChannelInactive()
    }

    private func serve(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let peer = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
        let authorization = head.headers.first(name: "Authorization")
        guard let user = self.authenticator.authenticate(authorization: authorization, peerCertificate: peer) else {
            self.logger.debug("unauthenticated request", metadata: ["kubesim.path": "\(head.uri)"])
            self.respond(context: context, head: head, status: 401, body: APIError.unauthorized().status)
            return
        }
        let request = APIRequest(
            method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
            body: Data(self.body.readableBytesView), user: user
        )
        self.hooks.record(request)
        self.logger.debug("request", metadata: ["kubesim.method": "\(request.method)", "kubesim.uri": "\(head.uri)", "kubesim.user": "\(user.name)"])
        if request.path == Self.faultsPath {
            self.injectFault(context: context, head: head, request)
            return
        }
        do {
            switch try self.api.handle(request) {
            case .object(let status, let body, let headers):
                self.respond(context: context, head: head, status: status, body: body, extraHeaders: headers)
            case .watch(let watchRequest):
                self.startWatch(context: context, head: head, watchRequest)
            case .plain(let status, let text, let headers):
                self.respond(context: context, head: head, status: status, text: text, extraHeaders: headers)
            }
        } catch {
            self.respond(context: context, head: head, status: error.code, body: error.status)
        }
    }

    /// KubeSim's own endpoint (no apiserver has it): `POST {"kind": "blackhole", "seconds": 30}`
    /// plays a fault, for the cluster's admin only. Answered before the fault begins, so that
    /// the answer gets out of a connection the fault silences or closes.
    static let faultsPath = "/kubesim/faults"

    private func injectFault(context: ChannelHandlerContext, head: HTTPRequestHead, _ request: APIRequest) {
        guard head.method == .POST else {
            self.respond(context: context, head: head, status: 405, body: APIError(code: 405, reason: "MethodNotAllowed", message: "POST a fault to \(Self.faultsPath)").status)
            return
        }
        guard request.user.name == KubeSim.adminUser else {
            self.respond(context: context, head: head, status: 403, body: APIError(
                code: 403, reason: "Forbidden", message: "User \"\(request.user.name)\" cannot inject faults: only \(KubeSim.adminUser) may"
            ).status)
            return
        }
        let fault: KubeSimFault
        do {
            let asked = try JSONDecoder().decode(FaultRequest.self, from: request.body)
            fault = try KubeSimFault(asked.kind, seconds: asked.seconds)
        } catch let error as KubeSimError {
            self.respond(context: context, head: head, status: 400, body: APIError.badRequest(error.message).status)
            return
        } catch {
            let kinds = KubeSimFault.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            self.respond(context: context, head: head, status: 400, body: APIError.badRequest("a fault is {\"kind\": one of \(kinds), \"seconds\": N}").status)
            return
        }
        self.respond(context: context, head: head, status: 202, body: .object(["kind": .string(fault.kind.rawValue), "message": .string(fault.summary)]))
        self.hooks.faults?(fault)
    }

    private struct FaultRequest: Decodable {
        let kind: KubeSimFault.Kind
        let seconds: Double?
    }

    private func respond(
        context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, body: JSON, extraHeaders: [(String, String)] = []
    ) {
        let data = body.encoded()
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(data.count))])
        headers.add(contentsOf: extraHeaders)
        if status == 429 || status == 503 { headers.add(name: "Retry-After", value: "1") }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: data)))), promise: nil)
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, text: String, extraHeaders: [(String, String)]) {
        var headers = HTTPHeaders([("Content-Length", String(text.utf8.count))])
        headers.add(contentsOf: extraHeaders)
        if !text.isEmpty { headers.add(name: "Content-Type", value: "text/plain; charset=utf-8") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: headers))), promise: nil)
        if !text.isEmpty { context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil) }
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    // MARK: watch

    private func startWatch(context: ChannelHandlerContext, head: HTTPRequestHead, _ request: WatchRequest) {
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.writeAndFlush(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)

        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let sink: ObjectStore.Sink = { event in
            eventLoop.execute {
                let (handler, context) = loopBound.value
                guard handler.watch != nil else { return }
                if let event {
                    handler.write(event, asTable: request.asTable, resource: request.filter.resource, context: context)
                } else {
                    handler.endWatch(context: context, keepAlive: false)
                }
            }
            // The connection unregisters the watch itself when it ends (stopWatch).
            return true
        }
        let registration: (id: UInt64, resourceVersion: Int)
        do {
            self.watch = ActiveWatch(id: nil, timeout: nil, bookmarks: nil)
            registration = try self.api.store.watch(request.filter, from: request.resourceVersion, sink: sink)
        } catch {
            // An expired or too-new resourceVersion is reported in-stream with a 200 (section 4.3).
            self.write(WatchEvent(kind: .error, object: error.status), asTable: false, resource: request.filter.resource, context: context)
            self.endWatch(context: context, keepAlive: head.isKeepAlive)
            return
        }
        self.lastResourceVersion = String(registration.resourceVersion)
        let timeout = context.eventLoop.scheduleTask(in: TimeAmount(request.timeout)) {
            let (handler, context) = loopBound.value
            handler.endWatch(context: context, keepAlive: head.isKeepAlive)
        }
        var bookmarks: RepeatedTask?
        if request.bookmarks {
            let interval = self.hooks.bookmarkInterval
            bookmarks = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                let (handler, context) = loopBound.value
                handler.writeBookmark(resource: request.filter.resource, annotations: nil, context: context)
            }
        }
        self.watch = ActiveWatch(id: registration.id, timeout: timeout, bookmarks: bookmarks)
        if request.sendInitialEvents && request.bookmarks {
            // Runs after the initial ADDED events the store queued on this loop.
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.lastResourceVersion = String(registration.resourceVersion)
                handler.writeBookmark(
                    resource: request.filter.resource, annotations: ["k8s.io/initial-events-end": "true"], context: context
                )
            }
        }
    }

    private func write(_ event: WatchEvent, asTable: Bool, resource: ResourceType, context: ChannelHandlerContext) {
        if let version = event.object[path: ["metadata", "resourceVersion"]]?.stringValue { self.lastResourceVersion = version }
        var object = event.object
        if asTable && event.kind != .error && event.kind != .bookmark {
            object = TableConverter.table(for: resource, objects: [event.object], resourceVersion: self.lastResourceVersion)
        }
        var line = JSON.object(["type": .string(event.kind.rawValue), "object": object]).encoded()
        line.append(UInt8(ascii: "\n"))
        context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: line)))), promise: nil)
    }

    private func writeBookmark(resource: ResourceType, annotations: [String: String]?, context: ChannelHandlerContext) {
        var metadata: JSON = .object(["resourceVersion": .string(self.lastResourceVersion)])
        if let annotations { metadata["annotations"] = .from(annotations) }
        let object: JSON = .object(["kind": .string(resource.kind), "apiVersion": .string(resource.groupVersion), "metadata": metadata])
        self.write(WatchEvent(kind: .bookmark, object: object), asTable: false, resource: resource, context: context)
    }

    private func endWatch(context: ChannelHandlerContext, keepAlive: Bool) {
        guard self.watch != nil else { return }
        self.stopWatch()
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }

    private func stopWatch() {
        guard let watch = self.watch else { return }
        self.watch = nil
        watch.timeout?.cancel()
        watch.bookmarks?.cancel()
        if let id = watch.id { self.api.store.stopWatching(id) }
    }
}
