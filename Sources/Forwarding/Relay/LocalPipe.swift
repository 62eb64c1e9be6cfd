import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Two connected channels on one event loop (a Unix socket pair), for streams whose local end
/// is not a socket of its own: a UDP flow, a relay's presence. One end is spliced to the
/// port-forward stream as a local connection would be; the other carries the relay framing.
enum LocalPipe {
    /// - Parameter configureInner: adds the inner end's handlers, before it reads anything.
    /// - Returns: the end to splice, and the end to speak through.
    static func make(
        on eventLoop: any EventLoop, configureInner: @escaping @Sendable (any Channel) throws -> Void
    ) async throws -> (spliced: any Channel, inner: any Channel) {
        var descriptors: [Int32] = [0, 0]
        #if canImport(Glibc)
        let kind = Int32(SOCK_STREAM.rawValue)
        #else
        let kind = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, kind, 0, &descriptors) == 0 else {
            throw IOError(errnoCode: errno, reason: "socketpair")
        }
        do {
            let spliced = try await NIOPipeBootstrap(group: eventLoop)
                .channelOption(.autoRead, value: false)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    // As on an accepted connection: what the inner end sends before the splice
                    // (a header, a half-close) waits for the splice's first read.
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(HeldInputHandler()) }
                }
                .takingOwnershipOfDescriptor(inputOutput: descriptors[0]).get()
            do {
                let inner = try await NIOPipeBootstrap(group: eventLoop)
                    .channelOption(.allowRemoteHalfClosure, value: true)
                    // Room for a few of the largest datagrams before the flow starts dropping.
                    .channelOption(.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: 256 << 10, high: 1 << 20))
                    .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try configureInner(channel) } }
                    .takingOwnershipOfDescriptor(inputOutput: descriptors[1]).get()
                return (spliced, inner)
            } catch {
                close(descriptors[1])
                spliced.close(promise: nil)
                throw error
            }
        } catch {
            close(descriptors[0])
            throw error
        }
    }
}
