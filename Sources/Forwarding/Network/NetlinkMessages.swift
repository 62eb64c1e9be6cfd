import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads rtnetlink messages (`linux/rtnetlink.h`): each message's header is 16 bytes (length,
/// type, flags, sequence, port id, host byte order), its body starts with `ifinfomsg` (links),
/// `ifaddrmsg` (addresses) or `rtmsg` (routes), and messages are padded to 4 bytes.
enum NetlinkMessages {
    /// The changes a datagram announces, one per message of a kind kfwd cares about, each in
    /// words (`eth0 address added`) with its interface.
    static func changes(in datagram: ByteBuffer, name: (UInt32) -> String = Self.interfaceName) -> [NetworkChange] {
        var buffer = datagram
        var changes: [NetworkChange] = []
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
                    let interface = name(index)
                    changes.append(NetworkChange(.network, "\(interface) link \(state)", interface: interface))
                }
            case 20, 21: // RTM_NEWADDR, RTM_DELADDR: ifaddrmsg { family, prefixlen, flags, scope, index u32 }
                if let index = buffer.getInteger(at: body + 4, endianness: .host, as: UInt32.self) {
                    let interface = name(index)
                    changes.append(NetworkChange(.network, "\(interface) address \(type == 20 ? "added" : "removed")", interface: interface))
                }
            case 24, 25: // RTM_NEWROUTE, RTM_DELROUTE: rtmsg { family, dst_len, src_len, tos, table, ... }
                // Only the main table: the local table's routes come and go with addresses.
                if buffer.getInteger(at: body + 4, as: UInt8.self) == 254 {
                    let interface = Self.outputInterface(buffer, attributes: body + 12, end: start + Int(length)).map(name)
                    let verb = type == 24 ? "added" : "removed"
                    changes.append(NetworkChange(.network, interface.map { "route \(verb) on \($0)" } ?? "route \(verb)", interface: interface))
                }
            default:
                break
            }
            let next = start + ((Int(length) + 3) & ~3)
            guard next > start, next <= buffer.writerIndex else { break }
            buffer.moveReaderIndex(to: next)
        }
        return changes
    }

    /// A route's `RTA_OIF` attribute (type 4, a 32-bit interface index) among the attributes
    /// from `offset` to `end` (each: length u16, type u16, value, padded to 4 bytes).
    private static func outputInterface(_ buffer: ByteBuffer, attributes offset: Int, end: Int) -> UInt32? {
        var position = offset
        while position + 4 <= end {
            guard let length = buffer.getInteger(at: position, endianness: .host, as: UInt16.self),
                let type = buffer.getInteger(at: position + 2, endianness: .host, as: UInt16.self), length >= 4
            else { return nil }
            if type == 4, length >= 8 { return buffer.getInteger(at: position + 4, endianness: .host, as: UInt32.self) }
            position += (Int(length) + 3) & ~3
        }
        return nil
    }

    static func interfaceName(_ index: UInt32) -> String {
        #if canImport(Glibc)
        var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        if if_indextoname(index, &name) != nil { return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        #endif
        return "interface \(index)"
    }
}
