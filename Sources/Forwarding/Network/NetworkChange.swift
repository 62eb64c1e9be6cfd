/// Something the machine's network or clock did that may have broken connections to clusters.
public struct NetworkChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// An interface, address or route changed: let it settle before probing.
        case network
        /// The machine woke or kfwd was frozen: probe at once.
        case wake
    }

    public let kind: Kind
    /// What happened, in a few words (`eth0 address removed`, `woke after 41 s asleep`).
    public let reason: String
    /// The interface it happened on, when one did: only clusters reached through it (or whose
    /// way out changed) are concerned.
    public let interface: String?

    public init(_ kind: Kind, _ reason: String, interface: String? = nil) {
        self.kind = kind
        self.reason = reason
        self.interface = interface
    }
}
