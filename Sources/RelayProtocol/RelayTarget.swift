import NIOCore

/// An address the cluster can reach: an IP address or a host name resolved inside the cluster,
/// and a port.
public struct RelayTarget: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 or IPv6 address in its usual text form, or a host name (kept lowercase: DNS
    /// names are case-insensitive, and the relay's allow-list compares them).
    public let host: String
    public let port: Int

    /// - Throws: ``RelayProtocolError`` naming the field when the host is empty, too long for
    ///   DNS, or the port is out of range.
    public init(host: String, port: Int) throws(RelayProtocolError) {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard (1...65535).contains(port) else {
            throw RelayProtocolError(.malformedHeader, "target port \(port) is out of range (1-65535)")
        }
        if let packed = Self.packedAddress(bare) {
            // The canonical text form, so that `::0001` and `::1` are the same target.
            self.host = (try? SocketAddress(packedIPAddress: ByteBuffer(bytes: packed), port: port).ipAddress) ?? bare
        } else {
            guard Self.isHostName(bare) else {
                throw RelayProtocolError(.malformedHeader, "target host \"\(host)\" is neither an IP address nor a DNS name")
            }
            self.host = bare.lowercased()
        }
        self.port = port
    }

    /// `HOST:PORT`, with brackets around an IPv6 address.
    public var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }

    /// Parses `HOST:PORT` (`[V6]:PORT` for IPv6).
    public init(parsing text: String) throws(RelayProtocolError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw RelayProtocolError(.malformedHeader, "\"\(text)\" is not HOST:PORT")
        }
        let host = String(text[..<colon])
        if host.contains(":") && !(host.hasPrefix("[") && host.hasSuffix("]")) {
            throw RelayProtocolError(.malformedHeader, "\"\(text)\": write an IPv6 address in brackets, as [::1]:80")
        }
        try self.init(host: host, port: port)
    }

    // MARK: wire form

    enum AddressType: UInt8 {
        // The values of SOCKS5 (RFC 1928), which readers of a capture will know.
        case ipv4 = 1
        case hostName = 3
        case ipv6 = 4
    }

    /// The 4 or 16 bytes of an IP address in text form; nil for anything else.
    static func packedAddress(_ text: String) -> [UInt8]? {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        default:
            return nil
        }
    }

    /// A DNS name as RFC 1123 allows it (letters, digits, hyphens and dots; labels of 1-63, at
    /// most 253 in all), plus underscores, which service records use.
    static func isHostName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...253).contains(bytes.count) else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { byte in
                    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                }
        }
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(self.port))
        if let packed = Self.packedAddress(self.host) {
            buffer.writeInteger(packed.count == 4 ? AddressType.ipv4.rawValue : AddressType.ipv6.rawValue)
            buffer.writeBytes(packed)
        } else {
            buffer.writeInteger(AddressType.hostName.rawValue)
            buffer.writeInteger(UInt8(self.host.utf8.count))
            buffer.writeString(self.host)
        }
    }

    static func read(from buffer: inout ByteBuffer) throws(RelayProtocolError) -> RelayTarget {
        guard let port = buffer.readInteger(as: UInt16.self), let rawType = buffer.readInteger(as: UInt8.self) else {
            throw RelayProtocolError(.malformedHeader, "the header ends inside the target")
        }
        let host: String
        switch AddressType(rawValue: rawType) {
        case .ipv4, .ipv6:
            let count = rawType == AddressType.ipv4.rawValue ? 4 : 16
            guard let bytes = buffer.readSlice(length: count),
                let address = try? SocketAddress(packedIPAddress: bytes, port: Int(port)), let text = address.ipAddress
            else {
                throw RelayProtocolError(.malformedHeader, "the header ends inside the target address")
            }
            host = text
        case .hostName:
            guard let length = buffer.readInteger(as: UInt8.self), let name = buffer.readString(length: Int(length)) else {
                throw RelayProtocolError(.malformedHeader, "the header ends inside the target host name")
            }
            host = name
        case nil:
            throw RelayProtocolError(.malformedHeader, "unknown target address type \(rawType)")
        }
        return try RelayTarget(host: host, port: Int(port))
    }
}
