import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The loopback addresses one KubeSim hands out: pod IPs and ClusterIPs in a /16 of
/// 127.0.0.0/8 (`127.B.x.y`) that no other KubeSim on this machine holds, so that simulators
/// running side by side (a test suite runs dozens) never bind the same ClusterIP and port, or
/// dial each other's pods. The block is held by a UDP socket bound in it, released by the kernel
/// however the process ends.
final class AddressBlock: Sendable {
    /// The second octet.
    let octet: Int
    private let holder: Int32
    private let pods = Mutex(0)
    private let services = Mutex(1)

    private init(octet: Int, holder: Int32) {
        self.octet = octet
        self.holder = holder
    }

    deinit {
        close(self.holder)
    }

    /// Takes the first free block of 127.100.0.0 to 127.199.255.255, starting at a random one.
    static func reserve() throws -> AddressBlock {
        let start = Int.random(in: 0..<100)
        for step in 0..<100 {
            let octet = 100 + (start + step) % 100
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard descriptor >= 0 else { break }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(65000).bigEndian
            address.sin_addr.s_addr = UInt32(127 << 24 | octet << 16 | 255 << 8 | 254).bigEndian
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return AddressBlock(octet: octet, holder: descriptor) }
            close(descriptor)
        }
        throw KubeSimError(message: "no free 127.B.0.0/16 address block for the simulator's pods and Services")
    }

    /// The next pod IP: `127.B.0.2` to `127.B.249.251`.
    func nextPodIP() -> String {
        let index = self.pods.withLock { value -> Int in
            defer { value += 1 }
            return value
        }
        return "127.\(self.octet).\((index / 250) % 250).\(index % 250 + 2)"
    }

    /// The `kubernetes` Service's ClusterIP, the first of the Service range (as in a cluster).
    var apiServerClusterIP: String { "127.\(self.octet).250.1" }

    /// The next ClusterIP: `127.B.250.2` onwards.
    func nextClusterIP() -> String {
        let index = self.services.withLock { value -> Int in
            value += 1
            return value
        }
        return "127.\(self.octet).\(250 + (index / 250) % 5).\(index % 250 + 1)"
    }
}
