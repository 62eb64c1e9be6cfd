import ChannelGlue
import Logging
import NIOCore
import NIOPosix
import RelayProtocol

/// The first handler of every stream a client opens: reads the header, checks the secret and the
/// allow-list, connects to the target, answers with one status byte, then hands the stream to
/// the TCP glue or the UDP flow and leaves the pipeline.
final class RelayStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case readingHeader(ByteBuffer)
        /// Bytes the client sent after the header while the target was being reached.
        case connecting(pending: ByteBuffer)
        case presence
        case done
    }

    private var state = State.readingHeader(ByteBuffer())
    private let configuration: RelayConfiguration
    private let presence: ClientPresence
    private let ownership: RelayOwnership
    private let logger: Logger

    init(configuration: RelayConfiguration, presence: ClientPresence, ownership: RelayOwnership, logger: Logger) {
        self.configuration = configuration
        self.presence = presence
        self.ownership = ownership
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        switch self.state {
        case .readingHeader(var buffer):
            buffer.writeBuffer(&bytes)
            self.state = .done
            do {
                guard let header = try RelayHeader.read(from: &buffer) else {
                    self.state = .readingHeader(buffer)
                    return
                }
                try self.accept(header, context: context, pending: buffer)
            } catch {
                self.refuse(error, context: context)
            }
        case .connecting(var pending):
            pending.writeBuffer(&bytes)
            self.state = .connecting(pending: pending)
        case .presence, .done:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, case .readingHeader = self.state {
            self.logger.info("stream from \(Self.peer(context)) sent no complete header in time: closed")
            context.close(promise: nil)
            return
        }
        // A client that ends its side before or instead of using the stream is gone.
        if case ChannelEvent.inputClosed = event {
            switch self.state {
            case .readingHeader, .presence:
                context.close(promise: nil)
                return
            case .connecting, .done:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: decisions

    private func accept(_ header: RelayHeader, context: ChannelHandlerContext, pending: ByteBuffer) throws(RelayProtocolError) {
        switch self.ownership.offer(header.secret, presence: header.transport == .presence) {
        case .refused:
            throw RelayProtocolError(.badSecret, "wrong secret")
        case .claimed:
            self.logger.info("claimed by the presence stream from \(Self.peer(context)); only its secret is served from now on")
        case .accepted:
            break
        }
        // A client from here until the stream closes, whoever owns it by then.
        self.presence.arrived()
        context.channel.closeFuture.whenComplete { [presence] _ in presence.left() }
        guard let target = header.target else {
            self.state = .presence
            self.removeHeaderTimeout(context)
            context.writeAndFlush(self.wrapOutboundOut(Self.status(.ok)), promise: nil)
            return
        }
        guard self.configuration.allowed.contains(RelayRule(header.transport, target)) else {
            throw RelayProtocolError(.targetNotAllowed, "\(header.transport)/\(target) is not an allowed target")
        }
        self.state = .connecting(pending: pending)
        context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
        let log = FlowLog(transport: header.transport, target: target, peer: Self.peer(context), logger: self.logger)
        let connected: EventLoopFuture<any Channel>
        switch header.transport {
        case .tcp:
            connected = ClientBootstrap(group: context.eventLoop)
                .connectTimeout(.seconds(5))
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .connect(literalOrHost: target.host, port: target.port)
        case .udp:
            let stream = context.channel
            let boundLog = NIOLoopBound(log, eventLoop: context.eventLoop)
            connected = Self.resolve(target, on: context.eventLoop).flatMap { address in
                DatagramFlow.connect(to: address, stream: stream, log: boundLog)
            }
        case .presence:
            preconditionFailure("a presence stream has no target")
        }
        connected.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let remote):
                self.connected(remote, transport: header.transport, log: log, context: context)
            case .failure(let error):
                self.refuse(RelayProtocolError(Self.status(for: error), "\(header.transport)/\(target): \(error)"), context: context)
            }
        }
    }

    private func connected(_ remote: any Channel, transport: RelayTransport, log: FlowLog, context: ChannelHandlerContext) {
        guard case .connecting(let pending) = self.state, context.channel.isActive else {
            remote.close(promise: nil)
            return
        }
        self.state = .done
        context.writeAndFlush(self.wrapOutboundOut(Self.status(.ok)), promise: nil)
        context.channel.closeFuture.assumeIsolated().whenComplete { _ in log.finish() }
        do {
            let pipeline = context.pipeline.syncOperations
            self.removeHeaderTimeout(context)
            switch transport {
            case .tcp:
                let (clientSide, targetSide) = GlueHandler.pair()
                try pipeline.addHandler(TrafficCountingHandler(counter: log.bytes), position: .after(self))
                try pipeline.addHandler(clientSide, position: .last)
                try remote.pipeline.syncOperations.addHandler(targetSide)
                if pending.readableBytes > 0 {
                    log.bytes.countToCluster(pending.readableBytes)
                    remote.writeAndFlush(pending, promise: nil)
                }
            case .udp:
                let streamSide = try DatagramFlow.streamSide(of: remote)
                try pipeline.addHandler(IdleStateHandler(allTimeout: self.configuration.flowIdle), position: .last)
                try pipeline.addHandler(streamSide, position: .last)
                // The flow sends what a read brought when the read completes; the read that
                // brought these completed while the target was being resolved.
                if pending.readableBytes > 0 {
                    context.fireChannelRead(NIOAny(pending))
                    context.fireChannelReadComplete()
                }
            case .presence:
                break
            }
        } catch {
            remote.close(promise: nil)
            context.close(promise: nil)
            return
        }
        // Leave before reads resume, so that they go to what now owns the stream.
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
    }

    private func refuse(_ error: RelayProtocolError, context: ChannelHandlerContext) {
        self.state = .done
        self.logger.info("stream from \(Self.peer(context)) refused: \(error.status.rawValue) \(error.message)")
        context.writeAndFlush(self.wrapOutboundOut(Self.status(error.status))).whenComplete { [channel = context.channel] _ in
            channel.close(promise: nil)
        }
    }

    private func removeHeaderTimeout(_ context: ChannelHandlerContext) {
        if let timeout = try? context.pipeline.syncOperations.handler(type: IdleStateHandler.self) {
            context.pipeline.syncOperations.removeHandler(timeout, promise: nil)
        }
    }

    // MARK: helpers

    private static func status(_ status: RelayStatus) -> ByteBuffer {
        ByteBuffer(bytes: [status.rawValue])
    }

    private static func peer(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
    }

    /// NIO tells a name that did not resolve apart from a host that did not answer.
    private static func status(for error: any Error) -> RelayStatus {
        if let connection = error as? NIOConnectionError, connection.connectionErrors.isEmpty,
            connection.dnsAError != nil || connection.dnsAAAAError != nil
        {
            return .resolveFailed
        }
        if error is ResolveFailure { return .resolveFailed }
        return .connectFailed
    }

    private struct ResolveFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// A UDP target's address: an IP address as is, a host name through the system resolver on
    /// NIO's thread pool (it blocks).
    private static func resolve(_ target: RelayTarget, on eventLoop: any EventLoop) -> EventLoopFuture<SocketAddress> {
        if let address = try? SocketAddress(ipAddress: target.host, port: target.port) {
            return eventLoop.makeSucceededFuture(address)
        }
        return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            do {
                return try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
            } catch {
                throw ResolveFailure(description: "cannot resolve \(target.host): \(error)")
            }
        }
    }
}
