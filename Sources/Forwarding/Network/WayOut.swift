#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How this machine reaches an address now, as the kernel's routing decides it: the interface
/// a connection to it would leave by. Read with a UDP socket that is connected, which sends
/// nothing, and the interface holding the source address the kernel picked.
enum WayOut: Sendable, Equatable {
    case interface(String)
    /// No route: a connection would fail at once.
    case unroutable
    /// The server is named, not addressed (kfwd resolves no names for this), or the lookup
    /// failed: any change may concern it.
    case unknown

    /// The way to `host` (an IPv4 or IPv6 address in text) at `port`.
    static func toward(host: String, port: Int) -> WayOut {
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: CInt
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, bare, &v4) == 1 {
            family = AF_INET
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    address.pointee.sin_family = sa_family_t(AF_INET)
                    address.pointee.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
                    address.pointee.sin_addr = v4
                }
            }
        } else if inet_pton(AF_INET6, bare, &v6) == 1 {
            family = AF_INET6
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    address.pointee.sin6_family = sa_family_t(AF_INET6)
                    address.pointee.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
                    address.pointee.sin6_addr = v6
                }
            }
        } else {
            return .unknown
        }
        #if canImport(Glibc)
        let datagram = CInt(SOCK_DGRAM.rawValue)
        #else
        let datagram = SOCK_DGRAM
        #endif
        let descriptor = socket(family, datagram, 0)
        guard descriptor >= 0 else { return .unknown }
        defer { close(descriptor) }
        let connected = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, length) } }
        guard connected == 0 else { return errno == ENETUNREACH || errno == EHOSTUNREACH ? .unroutable : .unknown }
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &localLength) } }
        guard named == 0 else { return .unknown }
        return Self.interface(holding: local).map(WayOut.interface) ?? .unknown
    }

    /// The interface that holds `address`.
    private static func interface(holding address: sockaddr_storage) -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var wanted = address
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let candidate = entry.pointee.ifa_addr, candidate.pointee.sa_family == wanted.ss_family else { continue }
            let same: Bool
            if wanted.ss_family == sa_family_t(AF_INET) {
                same = withUnsafePointer(to: &wanted) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { mine in
                    candidate.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr == mine.pointee.sin_addr.s_addr }
                } }
            } else {
                same = withUnsafePointer(to: &wanted) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { mine in
                    candidate.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { theirs in
                        withUnsafeBytes(of: theirs.pointee.sin6_addr) { a in withUnsafeBytes(of: mine.pointee.sin6_addr) { b in a.elementsEqual(b) } }
                    }
                } }
            }
            if same { return String(cString: entry.pointee.ifa_name) }
        }
        return nil
    }

    /// Whether `change` may concern a cluster whose way out was `before` (nil: not looked at
    /// before, taken as unchanged) and is `now`: a wake always does; a network change does when
    /// it happened on the cluster's interface, or when the way out moved or cannot be told.
    static func concerns(_ change: NetworkChange, before: WayOut?, now: WayOut) -> Bool {
        guard change.kind == .network else { return true }
        switch (before ?? now, now) {
        case (.interface(let old), .interface(let new)) where old == new: return change.interface == new
        default: return true
        }
    }
}
