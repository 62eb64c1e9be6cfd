import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// Port-forward over WebSocket with the `v4.channel.k8s.io` subprotocol (what kube-rs, and so
/// kftray, and the Python client use): one WebSocket, so one TLS connection and one upgrade, per
/// stream. It uses the client's TLS settings and credentials, and refreshes them once on a 401.
public struct WebSocketPortForwardTransport: PortForwardTransport {
    public let client: KubeClient
    public var name: String { "websocket" }
    static let subprotocol = "v4.channel.k8s.io"

    public init(client: KubeClient) {
        self.client = client
    }

    public func open(namespace: String, pod: String, port: Int, on eventLoop: any EventLoop) async throws(PortForwardError) -> any PortForwardStream {
        guard (1...65535).contains(port) else {
            throw PortForwardError(kind: .configuration, message: "port \(port) is not a TCP port: use 1 to 65535")
        }
        var refreshed = false
        while true {
            let endpoint: KubeClient.UpgradeEndpoint
            do {
                endpoint = try await self.client.upgradeEndpoint()
            } catch {
                throw PortForwardError(kind: .configuration, message: error.message)
            }
            let path = "\(endpoint.pathPrefix)/api/v1/namespaces/\(namespace)/pods/\(pod)/portforward"
            switch try await self.upgrade(endpoint, path: path, namespace: namespace, pod: pod, port: port, on: eventLoop) {
            case .stream(let stream):
                return stream
            case .refused(let status, let body):
                if status == 401, !refreshed, await self.client.refreshCredentials(after: endpoint.presented) {
                    refreshed = true
                    continue
                }
                throw self.refusal(status: status, body: body, path: path, namespace: namespace, pod: pod)
            }
        }
    }

    private enum Outcome: Sendable {
        case stream(WebSocketPortForwardStream)
        case refused(status: Int, body: ByteBuffer)
    }

    private enum Upgrade: Sendable {
        case upgraded(NIOLoopBound<WebSocketPortForwardClientHandler>, ready: EventLoopFuture<Void>)
        case refused(EventLoopFuture<(status: Int, body: ByteBuffer)>)
        case wrongSubprotocol(String?)
    }

    private func upgrade(
        _ endpoint: KubeClient.UpgradeEndpoint, path: String, namespace: String, pod: String, port: Int, on eventLoop: any EventLoop
    ) async throws(PortForwardError) -> Outcome {
        let describe: @Sendable (String) -> PortForwardError = { [context = self.client.context] text in
            let error = PortForwardError.fromErrorChannel(text, pod: pod, namespace: namespace, port: port)
            return PortForwardError(kind: error.kind, message: "\(error.message) (context '\(context.name)')")
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "\(path)?ports=\(port)")
        head.headers.add(name: "Host", value: endpoint.hostHeader)
        head.headers.add(name: "User-Agent", value: "kfwd/0.1 (swift)")
        head.headers.add(name: "Sec-WebSocket-Protocol", value: Self.subprotocol)
        if let authorization = endpoint.presented.authorization { head.headers.add(name: "Authorization", value: authorization) }
        let requestHead = head

        let channel: any Channel
        let upgrade: EventLoopFuture<Upgrade>
        do {
            (channel, upgrade) = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(TimeAmount(self.client.options.connectTimeout))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let tls = try NIOSSLClientHandler(context: endpoint.sslContext, serverHostname: endpoint.serverHostname)
                        try channel.pipeline.syncOperations.addHandler(tls)
                        let upgrader = WebSocketClientUpgrader<Upgrade>(maxFrameSize: 1 << 20) { channel, response in
                            channel.eventLoop.makeCompletedFuture {
                                let chosen = response.headers.first(name: "Sec-WebSocket-Protocol")
                                guard chosen == Self.subprotocol else { return .wrongSubprotocol(chosen) }
                                let ready = channel.eventLoop.makePromise(of: Void.self)
                                let handler = WebSocketPortForwardClientHandler(port: port, ready: ready, describe: describe)
                                try channel.pipeline.syncOperations.addHandler(handler)
                                return .upgraded(NIOLoopBound(handler, eventLoop: channel.eventLoop), ready: ready.futureResult)
                            }
                        }
                        var configuration = NIOUpgradableHTTPClientPipelineConfiguration(
                            upgradeConfiguration: NIOTypedHTTPClientUpgradeConfiguration(
                                upgradeRequestHead: requestHead, upgraders: [upgrader],
                                notUpgradingCompletionHandler: { channel in
                                    channel.eventLoop.makeCompletedFuture {
                                        let answer = channel.eventLoop.makePromise(of: (status: Int, body: ByteBuffer).self)
                                        try channel.pipeline.syncOperations.addHandler(UpgradeRefusalCollector(promise: answer))
                                        return .refused(answer.futureResult)
                                    }
                                }
                            )
                        )
                        // The server sends the port prefixes right behind the 101 (swift-notes gotcha 3).
                        configuration.leftOverBytesStrategy = .forwardBytes
                        let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: configuration)
                        return (channel, upgrade)
                    }
                }
        } catch {
            throw PortForwardError(kind: .transport, message: self.client.transportError(error).message)
        }

        // The upgrade and the port prefixes must arrive within the connect timeout.
        let limit = self.client.options.connectTimeout
        let timeout = eventLoop.scheduleTask(in: TimeAmount(limit)) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        let timedOut = { () async -> Bool in
            // The timer ran (and closed the channel) if it can no longer be cancelled.
            (try? await timeout.futureResult.get()) != nil
        }
        do {
            switch try await upgrade.get() {
            case .upgraded(let handler, let ready):
                do {
                    try await ready.get()
                } catch let error as PortForwardError {
                    channel.close(promise: nil)
                    throw error
                }
                return .stream(WebSocketPortForwardStream(channel: channel, handler: handler))
            case .refused(let answer):
                let (status, body) = try await answer.get()
                channel.close(promise: nil)
                return .refused(status: status, body: body)
            case .wrongSubprotocol(let chosen):
                channel.close(promise: nil)
                throw PortForwardError(
                    kind: .protocolViolation,
                    message: "the API server of context '\(self.client.context.name)' upgraded to subprotocol '\(chosen ?? "none")' instead of \(Self.subprotocol)"
                )
            }
        } catch let error as PortForwardError {
            throw error
        } catch {
            channel.close(promise: nil)
            timeout.cancel()
            if await timedOut() {
                throw PortForwardError(
                    kind: .transport,
                    message: "the API server of context '\(self.client.context.name)' did not complete the port-forward upgrade within \(limit)"
                )
            }
            throw PortForwardError(kind: .transport, message: self.client.transportError(error).message)
        }
    }

    private func refusal(status: Int, body: ByteBuffer, path: String, namespace: String, pod: String) -> PortForwardError {
        let apiError = self.client.apiError(code: status, body: body, path: path)
        let detail = (try? JSONDecoder().decode(Status.self, from: body))?.message ?? ""
        let context = "context '\(self.client.context.name)'"
        switch status {
        case 404:
            return PortForwardError(kind: .podNotFound, message: "pod \(namespace)/\(pod) not found (\(context))", httpStatus: status)
        case 400 where detail.contains("not running") || detail.contains("does not have a host"):
            return PortForwardError(kind: .podNotRunning, message: "pod \(namespace)/\(pod) cannot be forwarded to: \(detail) (\(context))", httpStatus: status)
        case 401:
            return PortForwardError(kind: .unauthorized, message: apiError.message, httpStatus: status)
        case 403 where body.readableBytes == 0:
            return PortForwardError(
                kind: .forbidden, message: "the API server of \(context) refused the WebSocket subprotocol \(Self.subprotocol) (403)", httpStatus: status
            )
        case 403:
            return PortForwardError(kind: .forbidden, message: "port-forward to pod \(namespace)/\(pod) is forbidden: \(apiError.message)", httpStatus: status)
        default:
            return PortForwardError(kind: .rejected, message: "port-forward to pod \(namespace)/\(pod) was refused: \(apiError.message)", httpStatus: status)
        }
    }
}

/// One `v4.channel.k8s.io` WebSocket carrying one local connection.
final class WebSocketPortForwardStream: PortForwardStream {
    private let channel: any Channel
    private let handler: NIOLoopBound<WebSocketPortForwardClientHandler>

    init(channel: any Channel, handler: NIOLoopBound<WebSocketPortForwardClientHandler>) {
        self.channel = channel
        self.handler = handler
    }

    func splice(with local: any Channel, replaying: ByteBuffer) async throws(PortForwardError) -> SpliceOutcome {
        precondition(local.eventLoop === self.channel.eventLoop, "a stream must be opened on its local connection's event loop")
        let remote = self.channel
        let handler = self.handler
        let joined: Result<(NIOLoopBound<GlueHandler>, NIOLoopBound<ReplayGuard>)?, any Error>
        do {
            joined = .success(try await remote.eventLoop.submit {
                guard local.isActive, remote.isActive else { return nil }
                let (localGlue, remoteGlue) = GlueHandler.pair()
                let replayGuard = ReplayGuard(local: local, failure: { handler.value.failure })
                try local.pipeline.syncOperations.addHandler(localGlue)
                try remote.pipeline.syncOperations.addHandler(replayGuard)
                try remote.pipeline.syncOperations.addHandler(remoteGlue)
                handler.value.startDelivering(context: try remote.pipeline.syncOperations.context(handler: handler.value))
                if replayGuard.retry != nil {
                    // What the stream had buffered says the dial failed: not joined after all. The
                    // glue goes (it has no partner left and would swallow the connection's reads),
                    // and `replaying` stays for the next pod.
                    _ = local.pipeline.syncOperations.removeHandler(localGlue)
                    return nil
                }
                if replaying.readableBytes > 0 { remote.writeAndFlush(replaying, promise: nil) }
                try local.syncOptions?.setOption(.autoRead, value: true)
                // Setting auto-read that is already on asks for nothing; a read an earlier glue
                // swallowed must be asked for again.
                local.read()
                return (NIOLoopBound(localGlue, eventLoop: local.eventLoop), NIOLoopBound(replayGuard, eventLoop: local.eventLoop))
            }.get())
        } catch {
            joined = .failure(error)
        }
        guard case .success(.some(let (localGlue, replayGuard))) = joined else {
            remote.close(promise: nil)
            if case .failure(let error) = joined {
                local.close(promise: nil)
                throw PortForwardError(kind: .transport, message: "joining the local connection to its stream failed: \(error)")
            }
            // The stream closed before the splice (its dial refused, or, opened ahead, its pod
            // closed it): nothing of this connection went through it, so another may carry it.
            try? await remote.closeFuture.get()
            guard local.isActive else { return .finished }
            let failure = try? await remote.eventLoop.submit({ handler.value.failure }).get()
            return .refusedBeforeResponse(
                failure ?? PortForwardError(kind: .rejected, message: "the stream to the pod closed before the connection used it"), replay: replaying
            )
        }
        try? await remote.closeFuture.get()
        let retry = try? await remote.eventLoop.submit { () -> (error: PortForwardError, replay: ByteBuffer)? in
            guard let retry = replayGuard.value.retry else { return nil }
            _ = local.pipeline.syncOperations.removeHandler(localGlue.value)
            return retry
        }.get()
        if let retry {
            return .refusedBeforeResponse(retry.error, replay: retry.replay)
        }
        try? await local.closeFuture.get()
        let failure = try? await remote.eventLoop.submit { handler.value.failure }.get()
        if let failure { throw failure }
        return .finished
    }

    func close() {
        self.channel.close(promise: nil)
    }

    var isOpen: Bool { self.channel.isActive }
}
