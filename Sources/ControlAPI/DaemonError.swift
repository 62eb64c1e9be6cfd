/// What stops the daemon from starting or a control request from being served.
public struct DaemonError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
