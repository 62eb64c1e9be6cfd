import ChannelGlue
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Where one container port of a pod is really served on this machine.
public struct BackendEndpoint: Sendable, Hashable {
    public let host: String
    public let port: Int
}

/// The running servers of the pods on KubeSim's node: built-in echo servers on NIO, or local
/// commands for images mapped with `--image`.
final class PodBackends: Sendable {
    /// What runs a container's image.
    enum Image: Sendable, Equatable {
        case httpEcho
        case tcpEcho
        case udpEcho
        case command(String)
    }

    private struct Running {
        var channels: [any Channel] = []
        var trackers: [ConnectionTracker] = []
        var endpoints: [Int: BackendEndpoint] = [:]
        var stopSignals: [AsyncStream<Never>.Continuation] = []
    }

    /// The threads of the built-in servers, apart from the API server's. A pod is another
    /// process: a stream's bytes change threads to reach it, whichever loop its session is on.
    /// On shared loops, a client whose session happened to land on its pod's loop skipped every
    /// wake-up that another client paid, which made one forwarder twice as fast as another in
    /// bursts for no reason of its own.
    static let threads = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)

    private let running = Mutex<[String: Running]>([:])
    private let images: [String: String]
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onConnectionChange: @Sendable () -> Void

    init(images: [String: String], group: any EventLoopGroup, logger: Logger, onConnectionChange: @escaping @Sendable () -> Void) {
        self.onConnectionChange = onConnectionChange
        self.images = images
        self.group = group
        self.logger = logger
    }

    /// Maps an image reference to what runs it; nil for an image this node cannot pull.
    func image(for reference: String) -> Image? {
        let name = Self.stripTag(reference)
        if let command = self.images[reference] ?? self.images[name] { return .command(command) }
        switch name {
        case "kubesim/http-echo": return .httpEcho
        case "kubesim/tcp-echo": return .tcpEcho
        case "kubesim/udp-echo": return .udpEcho
        default: return nil
        }
    }

    private static func stripTag(_ reference: String) -> String {
        var name = reference
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") { name = String(name[..<colon]) }
        return name
    }

    /// Open connections to a pod's built-in servers.
    func connectionCount(podUID: String) -> Int {
        self.running.withLock { $0[podUID]?.trackers.reduce(0) { $0 + $1.count } ?? 0 }
    }

    func endpoint(podUID: String, port: Int) -> BackendEndpoint? {
        self.running.withLock { $0[podUID]?.endpoints[port] }
    }

    /// Starts the built-in server for one container port, on the pod's own address and the
    /// container port when this machine allows it, else on 127.0.0.1 and a free port.
    func startBuiltIn(
        _ image: Image, podUID: String, pod: String, namespace: String, podIP: String, containerPort: Int, udp: Bool
    ) async throws {
        let channel: any Channel
        var tracker: ConnectionTracker?
        if udp || image == .udpEcho {
            channel = try await self.bindFirst(podIP: podIP, port: containerPort) { host, port in
                try await DatagramBootstrap(group: self.group)
                    .readingWholeDatagrams()
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPEchoHandler()) }
                    }
                    .bind(host: host, port: port).get()
            }
        } else {
            let connections = ConnectionTracker(onChange: self.onConnectionChange)
            tracker = connections
            // A pod's connections live on the loop that accepts them. With a child on another
            // loop NIO hops there, back and there again before the child can read: three thread
            // wake-ups per connection that a pod's own kernel accept never costs.
            let loop = self.group.next()
            channel = try await self.bindFirst(podIP: podIP, port: containerPort) { host, port in
                try await ServerBootstrap(group: loop, childGroup: loop)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(connections) }
                    }
                    .childChannelOption(.allowRemoteHalfClosure, value: true)
                    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .childChannelInitializer { child in
                        child.eventLoop.makeCompletedFuture {
                            if case .httpEcho = image {
                                try child.pipeline.syncOperations.configureHTTPServerPipeline()
                                try child.pipeline.syncOperations.addHandler(HTTPEchoHandler(pod: pod, namespace: namespace))
                            } else {
                                try child.pipeline.syncOperations.addHandler(TCPEchoHandler())
                            }
                        }
                    }
                    .bind(host: host, port: port).get()
            }
        }
        let address = channel.localAddress
        let endpoint = BackendEndpoint(host: address?.ipAddress ?? "127.0.0.1", port: address?.port ?? containerPort)
        self.running.withLock { table in
            table[podUID, default: Running()].channels.append(channel)
            if let tracker { table[podUID, default: Running()].trackers.append(tracker) }
            table[podUID, default: Running()].endpoints[containerPort] = endpoint
        }
    }

    /// Picks the address a command-backed container will listen on, the same way as built-ins.
    func reserveEndpoint(podUID: String, podIP: String, containerPort: Int) async -> BackendEndpoint {
        let endpoint: BackendEndpoint
        if let probe = try? await ServerBootstrap(group: self.group).bind(host: podIP, port: containerPort).get() {
            try? await probe.close()
            endpoint = BackendEndpoint(host: podIP, port: containerPort)
        } else if let probe = try? await ServerBootstrap(group: self.group).bind(host: "127.0.0.1", port: 0).get() {
            endpoint = BackendEndpoint(host: "127.0.0.1", port: probe.localAddress?.port ?? 0)
            try? await probe.close()
        } else {
            endpoint = BackendEndpoint(host: "127.0.0.1", port: containerPort)
        }
        self.running.withLock { $0[podUID, default: Running()].endpoints[containerPort] = endpoint }
        return endpoint
    }

    /// A signal that ends when the pod's processes must stop.
    func stopSignal(podUID: String) -> AsyncStream<Never> {
        let (stream, continuation) = AsyncStream<Never>.makeStream()
        self.running.withLock { $0[podUID, default: Running()].stopSignals.append(continuation) }
        return stream
    }

    /// Stops everything the pod runs and cuts its open connections.
    func stop(podUID: String) {
        guard let running = self.running.withLock({ $0.removeValue(forKey: podUID) }) else { return }
        for tracker in running.trackers { tracker.closeAll() }
        for channel in running.channels { channel.close(promise: nil) }
        for signal in running.stopSignals { signal.finish() }
    }

    func stopAll() {
        let uids = self.running.withLock { Array($0.keys) }
        for uid in uids { self.stop(podUID: uid) }
    }

    private func bindFirst(podIP: String, port: Int, _ bind: (String, Int) async throws -> any Channel) async throws -> any Channel {
        if let channel = try? await bind(podIP, port) { return channel }
        return try await bind("127.0.0.1", 0)
    }
}
