import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads rtnetlink messages (`linux/rtnetlink.h`): each message's header is 16 bytes (length,
/// type, flags, sequence, port id, host byte order), its body starts with `ifinfomsg` (links),
/// `ifaddrmsg` (addresses) or `rtmsg` (routes), and messages are padded to 4 bytes.
enum NetlinkMessages {
    /// The changes a datagram announces, in words (`eth0 address added`), one per message of a
    /// kind kfwd cares about.
    static func reasons(in datagram: ByteBuffer, name: (UInt32) -> String = Self.interfaceName) -> [String] {
        var buffer = datagram
        var reasons: [String] = []
        while buffer.readableBytes >= 16 {
            let start = buffer.readerIndex
            guard let length = buffer.getInteger(at: start, endianness: .host, as: UInt32.self),
                let type = buffer.getInteger(at: start + 4, endianness: .host, as: UInt16.self),
                length >= 16, Int(length) <= buffer.readableBytes
            else { break }
            let body = start + 16
            switch type {
            case 16, 17: // RTM_NEWLINK, RTM_DELLINK: ifinfomsg { family, pad, type u16, index i32, flags u32, change u32 }
                if let index = buffer.getInteger(at: body + 4, endianness: .host, as: UInt32.self),
                    let flags = buffer.getInteger(at: body + 8, endianness: .host, as: UInt32.self)
                {
                    let state = type == 17 ? "removed" : (flags & 0x1 != 0 && flags & 0x40 != 0 ? "up" : "down") // IFF_UP, IFF_RUNNING
                    reasons.append("\(name(index)) link \(state)")
                }
            case 20, 21: // RTM_NEWADDR, RTM_DELADDR: ifaddrmsg { family, prefixlen, flags, scope, index u32 }
                if let index = buffer.getInteger(at: body + 4, endianness: .host, as: UInt32.self) {
                    reasons.append("\(name(index)) address \(type == 20 ? "added" : "removed")")
                }
            case 24, 25: // RTM_NEWROUTE, RTM_DELROUTE: rtmsg { family, dst_len, src_len, tos, table, ... }
                // Only the main table: the local table's routes come and go with addresses.
                if buffer.getInteger(at: body + 4, as: UInt8.self) == 254 {
                    reasons.append("route \(type == 24 ? "added" : "removed")")
                }
            default:
                break
            }
            let next = start + ((Int(length) + 3) & ~3)
            guard next > start, next <= buffer.writerIndex else { break }
            buffer.moveReaderIndex(to: next)
        }
        return reasons
    }

    static func interfaceName(_ index: UInt32) -> String {
        #if canImport(Glibc)
        var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        if if_indextoname(index, &name) != nil { return String(cString: name) }
        #endif
        return "interface \(index)"
    }
}
