/// A label selector that does not parse; the message is the apiserver's own wording, so the
/// simulator can return it in a 400 and the client can show it as kubectl would.
public struct LabelSelectorError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}
