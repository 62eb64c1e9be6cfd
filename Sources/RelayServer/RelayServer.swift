import KfwdVersion
import Logging
import NIOCore
import NIOPosix
import Synchronization
import UnixSignals

/// The relay's listener and the life of the process: it serves streams until SIGTERM or SIGINT,
/// or until no client has been connected for the idle period, then closes every stream.
package struct RelayServer {
    let configuration: RelayConfiguration
    let logger: Logger

    package init(configuration: RelayConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    package enum Ending: String {
        case signal = "stopping on a signal"
        case idle = "no client connected for the idle period: exiting"
    }

    package func run() async throws -> Ending {
        let group = MultiThreadedEventLoopGroup.singleton
        let presence = ClientPresence(idle: self.configuration.idleExit, eventLoop: group.next())
        let ownership = RelayOwnership(secret: self.configuration.secret)
        let streams = Mutex<[ObjectIdentifier: any Channel]>([:])
        let configuration = self.configuration
        let logger = self.logger
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            // A UDP flow drops datagrams while its stream is above this: room for a few of the largest.
            .childChannelOption(.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: 256 << 10, high: 1 << 20))
            .childChannelInitializer { stream in
                let id = ObjectIdentifier(stream)
                streams.withLock { $0[id] = stream }
                stream.closeFuture.whenComplete { _ in _ = streams.withLock { $0.removeValue(forKey: id) } }
                return stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandlers(
                        IdleStateHandler(readTimeout: configuration.headerTimeout),
                        RelayStreamHandler(configuration: configuration, presence: presence, ownership: ownership, logger: logger)
                    )
                }
            }
            .bind(host: self.configuration.listenHost, port: self.configuration.listenPort).get()
        let port = listener.localAddress?.port ?? self.configuration.listenPort
        logger.info(
            "kfwd-relay \(KfwdVersion.current) listening on \(self.configuration.listenHost):\(port), \(self.configuration.allowed.count) allowed targets\(self.configuration.secret == nil ? ", waiting for its owner's presence stream" : "")"
        )

        let ending = await withTaskGroup(of: Ending.self) { tasks in
            tasks.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
                return .signal
            }
            tasks.addTask {
                try? await presence.idleExpired.get()
                return .idle
            }
            let first = await tasks.next()!
            tasks.cancelAll()
            presence.cancel()
            return first
        }
        logger.info("\(ending.rawValue)")
        try? await listener.close()
        for stream in streams.withLock({ Array($0.values) }) { try? await stream.close() }
        return ending
    }
}
