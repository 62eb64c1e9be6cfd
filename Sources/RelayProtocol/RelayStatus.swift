/// The one byte a relay answers a stream's header with. Anything but ``ok`` is followed by the
/// relay closing the stream.
public enum RelayStatus: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ok = 0
    case badSecret = 1
    case targetNotAllowed = 2
    case resolveFailed = 3
    case connectFailed = 4
    case unsupportedVersion = 5
    case malformedHeader = 6

    /// The status a byte on the wire stands for; a value no relay sends counts as a malformed
    /// answer.
    public init(byte: UInt8) {
        self = RelayStatus(rawValue: byte) ?? .malformedHeader
    }

    /// Words for a user, naming what to do where there is something to do.
    public var description: String {
        switch self {
        case .ok: "ok"
        case .badSecret: "the relay refused the secret (a relay of another kfwd, or one left from an earlier run: restart the forward)"
        case .targetNotAllowed: "the relay was not started for this target (restart the forward so that kfwd deploys a relay that allows it)"
        case .resolveFailed: "the relay could not resolve the target's host name inside the cluster"
        case .connectFailed: "the relay could not connect to the target from inside the cluster"
        case .unsupportedVersion: "the relay speaks another version of the relay protocol (its image does not match this kfwd)"
        case .malformedHeader: "the relay could not read the stream's header"
        }
    }
}
