import CZlib
import NIOCore

/// The deflate side of one direction of a SPDY session: a single zlib stream primed with the
/// SPDY/3 dictionary, never reset, each block ended with a sync flush so the peer can decode it
/// from its own frame (wire doc section 2.3).
///
/// The `z_stream` lives at a fixed address: zlib ≥ 1.2.9 remembers it and refuses a moved one.
/// Not thread-safe; it belongs to the encoder of one channel, used on its event loop.
final class HeaderBlockCompressor {
    private let stream: UnsafeMutablePointer<z_stream>

    init() {
        self.stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        // Level 9 with the dictionary is what Go's SPDY framer uses (zlib header `78 F9`).
        let status = czlib_deflateInit(self.stream, 9)
        precondition(status == Z_OK, "zlib deflateInit failed (\(status))")
        let dictionaryStatus = SPDYDictionary.bytes.withUnsafeBufferPointer { dictionary in
            deflateSetDictionary(self.stream, dictionary.baseAddress, uInt(dictionary.count))
        }
        precondition(dictionaryStatus == Z_OK, "zlib deflateSetDictionary failed (\(dictionaryStatus))")
        // Level 9 walks up to 4096 earlier positions for each byte, and a session's header
        // blocks are nearly all alike, so its chains are long: zlib was 12% of kfwd's CPU per
        // new connection, 2% with at most 256 (docs/benchmarks.md). The first blocks come out
        // byte for byte as at level 9 (the golden tests); 64 would change them.
        let tuneStatus = deflateTune(self.stream, 32, 258, 258, 256)
        precondition(tuneStatus == Z_OK, "zlib deflateTune failed (\(tuneStatus))")
    }

    deinit {
        deflateEnd(self.stream)
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
    }

    /// Compresses one raw header block and appends it to `output`.
    func compress(_ block: ByteBuffer, into output: inout ByteBuffer) {
        block.withUnsafeReadableBytes { input in
            // zlib only reads through next_in; it is declared mutable for old callers.
            self.stream.pointee.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            self.stream.pointee.avail_in = uInt(input.count)
            repeat {
                // Room for the block in one call: a sync-flushed block deflates to at most its
                // input, 5 bytes per 16 KiB stored and the 4-byte flush marker; more is looped.
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: input.count + 64) { out in
                    self.stream.pointee.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    self.stream.pointee.avail_out = uInt(out.count)
                    let status = deflate(self.stream, Z_SYNC_FLUSH)
                    // Z_BUF_ERROR only says no progress was possible, which ends the loop below.
                    precondition(status == Z_OK || status == Z_BUF_ERROR, "zlib deflate failed (\(status))")
                    return out.count - Int(self.stream.pointee.avail_out)
                }
            } while self.stream.pointee.avail_out == 0
            self.stream.pointee.next_in = nil
            self.stream.pointee.next_out = nil
        }
    }
}
