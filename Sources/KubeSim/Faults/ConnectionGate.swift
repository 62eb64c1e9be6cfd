import NIOCore

/// The first handler of every API connection, through which faults reach the wire: open (bytes
/// pass), paused (nothing is read and nothing written leaves, and both wait, as behind a
/// blackholed route whose TCP retransmits once the route is back), and silenced (what arrives
/// is never read and what is written is dropped, the connection staying open: a NAT that forgot
/// it, a VPN that dropped). A silenced connection never comes back.
final class ConnectionGate: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Mode: Sendable {
        case open
        case paused
        case silenced
    }

    private var mode: Mode
    /// Held while paused: what the socket had delivered, the writes, and whether a read and a
    /// flush were asked for.
    private var heldReads: [NIOAny] = []
    private var heldWrites: [(NIOAny, EventLoopPromise<Void>?)] = []
    private var readWanted = false
    private var flushWanted = false

    init(mode: Mode) {
        self.mode = mode
    }

    /// Moves to `mode`; leaving a pause lets everything held go, in order.
    func set(_ mode: Mode, context: ChannelHandlerContext) {
        guard self.mode != .silenced, mode != self.mode else { return }
        self.mode = mode
        switch mode {
        case .paused:
            break
        case .silenced:
            for (_, promise) in self.heldWrites { promise?.succeed() }
            self.heldWrites = []
            self.heldReads = []
        case .open:
            let reads = self.heldReads
            let writes = self.heldWrites
            self.heldReads = []
            self.heldWrites = []
            for (data, promise) in writes { context.write(data, promise: promise) }
            if self.flushWanted || !writes.isEmpty { context.flush() }
            self.flushWanted = false
            for data in reads { context.fireChannelRead(data) }
            if !reads.isEmpty { context.fireChannelReadComplete() }
            if self.readWanted {
                self.readWanted = false
                context.read()
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.mode {
        case .open: context.fireChannelRead(data)
        case .paused: self.heldReads.append(data)
        case .silenced: break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.mode == .open { context.fireChannelReadComplete() }
    }

    func read(context: ChannelHandlerContext) {
        switch self.mode {
        case .open: context.read()
        case .paused: self.readWanted = true
        case .silenced: break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.mode {
        case .open: context.write(data, promise: promise)
        case .paused: self.heldWrites.append((data, promise))
        case .silenced: promise?.succeed()
        }
    }

    func flush(context: ChannelHandlerContext) {
        switch self.mode {
        case .open: context.flush()
        case .paused: self.flushWanted = true
        case .silenced: break
        }
    }
}
