/// Every saved forward with its live state, sent whole on every change: the dashboard's
/// `forwards` event and the control API's `GET /v1/forwards` (a few rows per forward; a
/// reader redraws from it).
public struct ForwardsSnapshot: Codable, Sendable, Equatable {
    public var daemonPID: Int32?
    public var forwards: [ForwardRow]

    enum CodingKeys: String, CodingKey {
        case forwards
        case daemonPID = "daemon_pid"
    }

    public init(daemonPID: Int32?, forwards: [ForwardRow]) {
        self.daemonPID = daemonPID
        self.forwards = forwards
    }
}
