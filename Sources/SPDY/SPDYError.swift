/// A SPDY peer broke the framing. spdystream ends the connection on any of these; so do we.
public struct SPDYError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public var description: String { "SPDY protocol error: \(self.message)" }

    static func frame(_ message: String) -> SPDYError { SPDYError(message: message) }
    static func headerBlock(_ message: String) -> SPDYError { SPDYError(message: "header block: \(message)") }
}
