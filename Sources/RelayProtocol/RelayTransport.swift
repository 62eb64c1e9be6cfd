/// What a relay stream carries once the relay has accepted it.
public enum RelayTransport: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Nothing: the stream only says "a client is here", so the relay does not exit while the
    /// client is idle. It has no target.
    case presence = 0
    /// Raw bytes to and from a TCP connection the relay opens to the target.
    case tcp = 1
    /// Length-prefixed datagrams to and from a UDP socket the relay connects to the target.
    case udp = 2

    public var description: String {
        switch self {
        case .presence: "presence"
        case .tcp: "tcp"
        case .udp: "udp"
        }
    }
}
