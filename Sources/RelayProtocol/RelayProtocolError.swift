/// A stream whose bytes do not follow the relay protocol. Each error belongs to one stream: the
/// stream is closed, other streams carry on.
public struct RelayProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The status a relay answers this error with.
    public let status: RelayStatus
    public let message: String

    public init(_ status: RelayStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { self.message }
}
