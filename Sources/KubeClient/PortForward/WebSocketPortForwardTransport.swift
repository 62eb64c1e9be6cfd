import ChannelGlue
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
        let dialer = PortForwardDialer(client: self.client)
        let describe: @Sendable (String) -> PortForwardError = { text in
            dialer.errorStreamError(text, pod: pod, namespace: namespace, port: port)
        }
        let path = "/api/v1/namespaces/\(namespace)/pods/\(pod)/portforward"
        let outcome = try await dialer.dial(
            method: .GET, path: path, query: "ports=\(port)", headers: [("Sec-WebSocket-Protocol", Self.subprotocol)], on: eventLoop,
            upgrader: {
                WebSocketClientUpgrader<PortForwardDialer.Upgrade<Upgraded>>(maxFrameSize: 1 << 20) { channel, response in
                    channel.eventLoop.makeCompletedFuture {
                        let chosen = response.headers.first(name: "Sec-WebSocket-Protocol")
                        guard chosen == Self.subprotocol else { return .wrongProtocol(chosen) }
                        let ready = channel.eventLoop.makePromise(of: Void.self)
                        let handler = WebSocketPortForwardClientHandler(port: port, ready: ready, describe: describe)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return .upgraded(Upgraded(handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), ready: ready.futureResult))
                    }
                }
            },
            settle: { (channel, upgraded) throws(PortForwardError) in
                // The server announces the port on both channels before the stream is usable.
                do {
                    try await upgraded.ready.get()
                } catch let error as PortForwardError {
                    throw error
                } catch {
                    throw PortForwardError(kind: .transport, message: dialer.client.transportError(error).message)
                }
                return WebSocketPortForwardStream(channel: channel, handler: upgraded.handler)
            }
        )
        switch outcome {
        case .upgraded(let stream):
            return stream
        case .refused(let status, let body):
            throw dialer.refusal(status: status, body: body, path: path, namespace: namespace, pod: pod, protocolName: "the WebSocket subprotocol \(Self.subprotocol)")
        case .wrongProtocol(let chosen):
            throw dialer.wrongProtocol(chosen, expected: "subprotocol \(Self.subprotocol)")
        }
    }

    private struct Upgraded: Sendable {
        let handler: NIOLoopBound<WebSocketPortForwardClientHandler>
        let ready: EventLoopFuture<Void>
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
