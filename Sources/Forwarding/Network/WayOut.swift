import NIOCore
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
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        guard let server = try? SocketAddress(ipAddress: bare, port: port) else { return .unknown }
        #if canImport(Glibc)
        let datagram = CInt(SOCK_DGRAM.rawValue)
        #else
        let datagram = SOCK_DGRAM
        #endif
        let descriptor = socket(server.protocol.rawValue, datagram, 0)
        guard descriptor >= 0 else { return .unknown }
        defer { close(descriptor) }
        guard server.withSockAddr({ connect(descriptor, $0, socklen_t($1)) }) == 0 else {
            return errno == ENETUNREACH || errno == EHOSTUNREACH ? .unroutable : .unknown
        }
        var local = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        guard named == 0, let source = Self.text(of: local),
            let device = (try? System.enumerateDevices())?.first(where: { $0.address?.ipAddress == source })
        else { return .unknown }
        return .interface(device.name)
    }

    /// An IPv4 or IPv6 socket address's address, as NIO writes it.
    private static func text(of address: sockaddr_storage) -> String? {
        var address = address
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written: UnsafePointer<CChar>? = withUnsafePointer(to: &address) { pointer in
            switch CInt(pointer.pointee.ss_family) {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                    withUnsafePointer(to: v4.pointee.sin_addr) { inet_ntop(AF_INET, $0, &buffer, socklen_t(buffer.count)) }
                }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                    withUnsafePointer(to: v6.pointee.sin6_addr) { inet_ntop(AF_INET6, $0, &buffer, socklen_t(buffer.count)) }
                }
            default:
                nil
            }
        }
        guard written != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
