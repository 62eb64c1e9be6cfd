import NIOCore
import NIOPosix

extension DatagramBootstrap {
    /// Reads datagrams of any size whole, and a burst of them per wake-up. NIO reads into 2 KiB
    /// by default and cuts the rest, and four datagrams per wake-up, while the kernel drops
    /// what its socket buffer cannot hold in the meantime.
    package func readingWholeDatagrams() -> DatagramBootstrap {
        self.channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
            .channelOption(.maxMessagesPerRead, value: 64)
    }
}
