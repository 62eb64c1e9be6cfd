import ChannelGlue
import Logging
import NIOCore
import RelayProtocol

/// What one stream did, logged as one line when it closes (never the secret).
final class FlowLog {
    private let transport: RelayTransport
    private let target: RelayTarget
    private let peer: String
    private let started = NIODeadline.now()
    private let logger: Logger
    /// A TCP flow's bytes: in from kfwd (to the target), out from the target.
    let bytes = TrafficCounter()
    var datagramsIn = 0
    var datagramsOut = 0
    var datagramsDropped = 0
    var endReason: String?

    init(transport: RelayTransport, target: RelayTarget, peer: String, logger: Logger) {
        self.transport = transport
        self.target = target
        self.peer = peer
        self.logger = logger
    }

    func finish() {
        let seconds = Double((NIODeadline.now() - self.started).nanoseconds) / 1e9
        var line = "flow \(self.transport) \(self.target) from \(self.peer): "
        switch self.transport {
        case .udp:
            line += "\(self.datagramsIn) datagrams in, \(self.datagramsOut) out"
            if self.datagramsDropped > 0 { line += ", \(self.datagramsDropped) dropped (client not reading)" }
        case .tcp, .presence:
            line += "\(self.bytes.bytesToCluster) bytes in, \(self.bytes.bytesFromCluster) out"
        }
        line += ", \(String(format: seconds)) s"
        if let endReason { line += ", \(endReason)" }
        self.logger.info("\(line)")
    }
}

extension String {
    /// Seconds with one decimal, without Foundation's formatter.
    fileprivate init(format seconds: Double) {
        let tenths = Int((seconds * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
