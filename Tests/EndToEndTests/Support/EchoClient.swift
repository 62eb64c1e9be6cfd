import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A TCP client on loopback that sends `count` bytes of a pattern and checks that the same bytes
/// come back (through an echo server), reading while it writes.
enum EchoClient {
    /// 64 KiB of fixed pseudo-random bytes; the stream at offset `o` is `block[(o + seed) % 64 KiB]`.
    static let block: [UInt8] = {
        var state: UInt32 = 0x9E37_79B9
        return (0..<(64 << 10)).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }()

    /// - Parameter halfClosure: finishing the outbound side sends a FIN, as a client's
    ///   shutdown(SHUT_WR) does (off: it waits for the close).
    static func connect(port: Int, halfClosure: Bool = false) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: halfClosure)
                    )
                }
            }
    }

    /// A client that writes until the whole path is full and never reads what comes back: the
    /// stalled local reader. Cancel the task to let it go.
    static func neverReading(port: Int) async throws -> Task<Void, any Error> {
        let stalled = try await self.connect(port: port)
        return Task {
            try await stalled.executeThenClose { _, outbound in
                let chunk = ByteBuffer(repeating: 0x61, count: 64 << 10)
                for _ in 0..<(1 << 14) { try await outbound.write(chunk) }
            }
        }
    }

    /// A round trip that made no progress for its whole time limit; a stalled forward fails the
    /// test with what arrived instead of hanging the suite.
    struct Stalled: Error, CustomStringConvertible {
        let port: Int
        let matched: Int
        let count: Int
        let limit: Duration
        var description: String {
            "round trip through 127.0.0.1:\(self.port) stalled: \(self.matched) of \(self.count) bytes back, none for \(self.limit)"
        }
    }

    /// Writes in `chunk`-byte pieces, waiting `pause` after each when given (to spread a
    /// transfer over time). Throws ``Stalled`` when no byte comes back for `stallLimit`.
    /// - Returns: how many bytes came back equal to what was sent (`count` when all did).
    static func roundTrip(
        port: Int, count: Int, seed: Int, chunk: Int = 16 << 10, pause: Duration? = nil, stallLimit: Duration = .seconds(60)
    ) async throws -> Int {
        let channel = try await self.connect(port: port)
        let raw = channel.channel
        let progress = Progress()
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var sent = 0
                    while sent < count {
                        let size = min(chunk, count - sent)
                        try await outbound.write(ByteBuffer(bytes: self.slice(at: sent + seed, count: size)))
                        sent += size
                        if let pause { try await Task.sleep(for: pause) }
                    }
                    return -1
                }
                group.addTask {
                    var matched = 0
                    for try await buffer in inbound {
                        let expected = self.slice(at: matched + seed, count: buffer.readableBytes)
                        let equal = buffer.withUnsafeReadableBytes { received in
                            expected.withUnsafeBytes { memcmp(received.baseAddress!, $0.baseAddress!, received.count) == 0 }
                        }
                        guard equal else { return matched }
                        matched += buffer.readableBytes
                        progress.advance(to: matched)
                        if matched >= count { break }
                    }
                    return matched
                }
                group.addTask {
                    // Watches progress rather than bounding the whole transfer: a slow but moving
                    // transfer under a busy suite is not a stall.
                    var seen = -1
                    while true {
                        try await Task.sleep(for: stallLimit)
                        let now = progress.matched
                        if now == seen {
                            raw.close(promise: nil)
                            throw Stalled(port: port, matched: now, count: count, limit: stallLimit)
                        }
                        seen = now
                    }
                }
                while let value = try await group.next() {
                    if value >= 0 {
                        group.cancelAll()
                        return value
                    }
                }
                return 0
            }
        }
    }

    private final class Progress: Sendable {
        private let value = Mutex(0)
        var matched: Int { self.value.withLock { $0 } }
        func advance(to matched: Int) { self.value.withLock { $0 = matched } }
    }

    static func slice(at offset: Int, count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var position = offset % self.block.count
        while bytes.count < count {
            let take = min(count - bytes.count, self.block.count - position)
            bytes.append(contentsOf: self.block[position..<(position + take)])
            position = 0
        }
        return bytes
    }
}
