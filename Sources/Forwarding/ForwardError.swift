/// A forward that cannot start or must stop: the message names the thing (port, pod, context)
/// and the fix.
public struct ForwardError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}
