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
        var input = Array(compressed.readableBytesView)
        var output = ByteBuffer()
        try input.withUnsafeMutableBufferPointer { (input) throws(SPDYError) in
            self.stream.pointee.next_in = input.baseAddress
            self.stream.pointee.avail_in = uInt(input.count)
            defer { self.stream.pointee.next_in = nil }
            var chunk = [UInt8](repeating: 0, count: 1024)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { chunk in
                    self.stream.pointee.next_out = chunk.baseAddress
                    self.stream.pointee.avail_out = uInt(chunk.count)
                    let status = inflate(self.stream, Z_SYNC_FLUSH)
                    let produced = chunk.count - Int(self.stream.pointee.avail_out)
                    output.writeBytes(UnsafeBufferPointer(rebasing: chunk[0..<produced]))
                    return (status, produced)
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
                    if self.stream.pointee.avail_in == 0, produced < chunk.count { return }
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
