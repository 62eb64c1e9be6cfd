import NIOCore

/// The rest of a frame's payload, handed on in parts as its bytes arrive rather than gathered
/// first: the SPDY frame decoder's DATA frames and the tunnel's WebSocket binary frames, where
/// gathering a frame that spans reads copied every byte once more.
struct ArrivingPayload {
    private(set) var remaining: Int

    init(remaining: Int) {
        self.remaining = remaining
    }

    /// The next part of the payload from `buffer` (nil when `buffer` is empty), and whether it
    /// is the last.
    mutating func next(from buffer: inout ByteBuffer) -> (part: ByteBuffer, isLast: Bool)? {
        guard buffer.readableBytes > 0 else { return nil }
        let part = buffer.readSlice(length: min(self.remaining, buffer.readableBytes))!
        self.remaining -= part.readableBytes
        return (part, self.remaining == 0)
    }
}
