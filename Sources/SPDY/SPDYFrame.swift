import NIOCore

/// One SPDY/3 frame, with header blocks already decompressed into name/value pairs (wire doc
/// section 2.2). Only the types spdystream accepts exist: anything else is a protocol error.
public enum SPDYFrame: Sendable, Equatable {
    case data(streamID: UInt32, fin: Bool, payload: ByteBuffer)
    case synStream(streamID: UInt32, associatedStreamID: UInt32 = 0, priority: UInt8 = 0, flags: UInt8 = 0, headers: SPDYHeaders)
    case synReply(streamID: UInt32, flags: UInt8 = 0, headers: SPDYHeaders)
    case rstStream(streamID: UInt32, status: RSTStatus)
    /// Parsed and ignored by everyone in this protocol's world; kept so a peer's SETTINGS is
    /// not an error.
    case settings(flags: UInt8, entries: [Setting])
    case ping(id: UInt32)
    case goAway(lastGoodStreamID: UInt32, status: UInt32)
    case headers(streamID: UInt32, flags: UInt8, headers: SPDYHeaders)
    /// Parsed and ignored: spdystream keeps no flow-control windows.
    case windowUpdate(streamID: UInt32, delta: UInt32)

    /// A SETTINGS entry.
    public struct Setting: Sendable, Equatable {
        public var flags: UInt8
        public var id: UInt32
        public var value: UInt32

        public init(flags: UInt8, id: UInt32, value: UInt32) {
            self.flags = flags
            self.id = id
            self.value = value
        }
    }

    /// RST_STREAM status codes. Kubernetes sends only ``cancel``.
    public struct RSTStatus: RawRepresentable, Sendable, Equatable, CustomStringConvertible {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let protocolError = RSTStatus(rawValue: 1)
        public static let invalidStream = RSTStatus(rawValue: 2)
        public static let refusedStream = RSTStatus(rawValue: 3)
        public static let cancel = RSTStatus(rawValue: 5)
        public static let internalError = RSTStatus(rawValue: 6)

        public var description: String {
            let names: [UInt32: String] = [
                1: "PROTOCOL_ERROR", 2: "INVALID_STREAM", 3: "REFUSED_STREAM", 4: "UNSUPPORTED_VERSION", 5: "CANCEL",
                6: "INTERNAL_ERROR", 7: "FLOW_CONTROL_ERROR", 8: "STREAM_IN_USE", 9: "STREAM_ALREADY_CLOSED",
                10: "INVALID_CREDENTIALS", 11: "FRAME_TOO_LARGE",
            ]
            return names[self.rawValue] ?? "status \(self.rawValue)"
        }
    }

    /// The control-frame type codes.
    enum ControlType: UInt16 {
        case synStream = 1
        case synReply = 2
        case rstStream = 3
        case settings = 4
        case ping = 6
        case goAway = 7
        case headers = 8
        case windowUpdate = 9
    }

    /// The largest length a frame header can carry (24 bits).
    public static let maximumLength = (1 << 24) - 1
    /// The version field of every control frame ("SPDY/3.1" is framed as draft 3).
    static let version: UInt16 = 3
}
