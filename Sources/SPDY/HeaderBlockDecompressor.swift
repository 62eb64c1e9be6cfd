import CZlib
import NIOCore

/// The inflate side of one direction of a SPDY session: one zlib stream for the whole
/// connection, given the SPDY/3 dictionary when the first block asks for it.
///
/// As spdystream does, a block must use up exactly its frame's bytes. Not thread-safe; it
/// belongs to the decoder of one channel.
final class HeaderBlockDecompressor {
    private let stream: UnsafeMutablePointer<z_stream>
    /// A header block inflating past this is refused (a compression bomb, not port-forward's
    /// three short headers).
    static let maximumBlockSize = 1 << 20

    init() {
        self.stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        let status = czlib_inflateInit(self.stream)
        precondition(status == Z_OK, "zlib inflateInit failed (\(status))")
    }

    deinit {
        inflateEnd(self.stream)
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
    }

    /// Inflates one compressed block (all of `compressed`) to its raw header block.
    func decompress(_ compressed: ByteBuffer) throws(SPDYError) -> ByteBuffer {
        var output = ByteBuffer()
        try compressed.withUnsafeReadableBytes { (input) throws(SPDYError) in
            // zlib only reads through next_in; it is declared mutable for old callers.
            self.stream.pointee.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            self.stream.pointee.avail_in = uInt(input.count)
            defer {
                self.stream.pointee.next_in = nil
                self.stream.pointee.next_out = nil
            }
            while true {
                var status = Z_OK
                let produced = output.writeWithUnsafeMutableBytes(minimumWritableBytes: 1024) { out in
                    self.stream.pointee.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    self.stream.pointee.avail_out = uInt(out.count)
                    status = inflate(self.stream, Z_SYNC_FLUSH)
                    return out.count - Int(self.stream.pointee.avail_out)
                }
                switch status {
                case Z_NEED_DICT:
                    let dictionaryStatus = SPDYDictionary.bytes.withUnsafeBufferPointer { dictionary in
                        inflateSetDictionary(self.stream, dictionary.baseAddress, uInt(dictionary.count))
                    }
                    guard dictionaryStatus == Z_OK else {
                        throw SPDYError.headerBlock("the header block was compressed with another dictionary")
                    }
                case Z_OK, Z_BUF_ERROR:
                    if output.readableBytes > Self.maximumBlockSize {
                        throw SPDYError.headerBlock("a header block inflates past \(Self.maximumBlockSize) bytes")
                    }
                    // All input used and room left over: the block is whole.
                    if self.stream.pointee.avail_in == 0, self.stream.pointee.avail_out > 0 { return }
                    if status == Z_BUF_ERROR, produced == 0 {
                        throw SPDYError.headerBlock("the compressed header block is truncated")
                    }
                case Z_STREAM_END:
                    throw SPDYError.headerBlock("the header compression stream ended (a sync flush was expected)")
                default:
                    throw SPDYError.headerBlock("the compressed header block is corrupt (zlib \(status))")
                }
            }
        }
        return output
    }
}
