#if os(Linux)
import Glibc
import Logging
import NIOCore
import NIOPosix

/// The kernel's own news of interfaces, addresses and routes: a netlink route socket joined to
/// the link, IPv4/IPv6 address and IPv4/IPv6 route groups, read in NIO. Nothing is polled and
/// nothing leaves the machine.
struct NetlinkWatch: Sendable {
    /// Runs until cancelled; `report` hears each change. Returns at once, after logging why,
    /// when the socket cannot be opened (a sandbox without netlink): wake detection and the
    /// pings of sessions still work then.
    func run(logger: Logger, _ report: @escaping @Sendable (NetworkChange) -> Void) async {
        let descriptor: CInt
        do { descriptor = try Self.open() } catch {
            logger.warning("network changes will not be noticed: \(error)")
            return
        }
        let channel: any Channel
        do {
            channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 1 << 16))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(NetlinkHandler(report: report)) }
                }
                .takingOwnershipOfDescriptor(input: descriptor).get()
        } catch {
            close(descriptor)
            logger.warning("network changes will not be noticed: the netlink socket could not be read: \(error)")
            return
        }
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    struct OpenError: Error, CustomStringConvertible {
        let call: String
        let errno: CInt
        var description: String { "\(self.call) on a netlink route socket failed: \(String(cString: strerror(self.errno)))" }
    }

    /// `linux/netlink.h` and `linux/rtnetlink.h`, which Glibc's module does not bring.
    private enum Kernel {
        static let netlinkRoute: CInt = 0
        static let groups: UInt32 = 0x1 | 0x10 | 0x40 | 0x100 | 0x400 // link, IPv4 address, IPv4 route, IPv6 address, IPv6 route
        /// `struct sockaddr_nl`.
        struct Address {
            var family = sa_family_t(AF_NETLINK)
            var pad: UInt16 = 0
            var portID: UInt32 = 0
            var groups: UInt32
        }
    }

    private static func open() throws -> CInt {
        let descriptor = socket(AF_NETLINK, CInt(SOCK_RAW.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue), Kernel.netlinkRoute)
        guard descriptor >= 0 else { throw OpenError(call: "socket", errno: errno) }
        var address = Kernel.Address(groups: Kernel.groups)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<Kernel.Address>.size)) }
        }
        guard bound == 0 else {
            let failure = errno
            close(descriptor)
            throw OpenError(call: "bind", errno: failure)
        }
        return descriptor
    }
}

/// Turns each netlink datagram into the changes it announces.
private final class NetlinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let report: @Sendable (NetworkChange) -> Void

    init(report: @escaping @Sendable (NetworkChange) -> Void) {
        self.report = report
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for change in NetlinkMessages.changes(in: self.unwrapInboundIn(data)) { self.report(change) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ENOBUFS: the kernel dropped messages because the socket's buffer overflowed. Something
        // changed; the socket goes on.
        self.report(NetworkChange(.network, "many network changes at once"))
    }
}
#endif
