import NIOCore

/// The name/value pairs of a SPDY/3 header block, in order. Names are lower case on the wire;
/// a multi-valued header is one pair whose values are joined with NUL (section 2.3).
public struct SPDYHeaders: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var pairs: [(name: String, value: String)]

    public init(_ pairs: [(name: String, value: String)] = []) {
        self.pairs = pairs
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.pairs = elements.map { (name: $0.0, value: $0.1) }
    }

    /// The value of `name` (compared in lower case).
    public subscript(name: String) -> String? {
        let name = name.lowercased()
        return self.pairs.first { $0.name == name }?.value
    }

    public static func == (lhs: SPDYHeaders, rhs: SPDYHeaders) -> Bool {
        lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The raw (uncompressed) block: a pair count, then each name and value with a 32-bit length.
    func encoded() -> ByteBuffer {
        var block = ByteBuffer()
        block.reserveCapacity(self.pairs.reduce(4) { $0 + 8 + $1.name.utf8.count + $1.value.utf8.count })
        block.writeInteger(UInt32(self.pairs.count))
        for (name, value) in self.pairs {
            // Lower-casing outside ASCII can change a name's length, so each length is the one written.
            Self.writeLengthPrefixed(Self.isLowercaseASCII(name) ? name : name.lowercased(), into: &block)
            Self.writeLengthPrefixed(value, into: &block)
        }
        return block
    }

    private static func isLowercaseASCII(_ name: String) -> Bool {
        name.utf8.allSatisfy { $0 < 0x80 && !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    private static func writeLengthPrefixed(_ string: String, into block: inout ByteBuffer) {
        let lengthIndex = block.writerIndex
        block.writeInteger(UInt32(0))
        let length = block.writeString(string)
        block.setInteger(UInt32(length), at: lengthIndex)
    }

    /// Reads a raw block, refusing what spdystream refuses: an upper-case or empty name, a
    /// duplicate name, lengths running past the block, and bytes left over.
    init(decoding block: ByteBuffer) throws(SPDYError) {
        var block = block
        guard let count = block.readInteger(as: UInt32.self) else { throw .headerBlock("the pair count is missing") }
        guard Int(count) <= block.readableBytes / 8 else { throw .headerBlock("\(count) pairs cannot fit in \(block.readableBytes) bytes") }
        var pairs: [(name: String, value: String)] = []
        var seen = Set<String>()
        for _ in 0..<count {
            guard let nameLength = block.readInteger(as: UInt32.self), nameLength > 0,
                let name = block.readString(length: Int(nameLength))
            else { throw .headerBlock("a header name is empty or runs past the block") }
            guard name == name.lowercased() else { throw .headerBlock("header name '\(name)' is not lower case") }
            guard seen.insert(name).inserted else { throw .headerBlock("header '\(name)' appears twice") }
            guard let valueLength = block.readInteger(as: UInt32.self), let value = block.readString(length: Int(valueLength)) else {
                throw .headerBlock("the value of '\(name)' runs past the block")
            }
            pairs.append((name, value))
        }
        guard block.readableBytes == 0 else { throw .headerBlock("\(block.readableBytes) bytes follow the last pair") }
        self.pairs = pairs
    }
}
