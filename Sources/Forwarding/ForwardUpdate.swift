import Foundation

/// One change of a supervised forward, as the ``Supervisor`` publishes it: what happened, and
/// the forward's status after it. The event stream, the log, the store and the dashboard all
/// read these.
public struct ForwardUpdate: Sendable {
    /// What happened.
    public enum Change: Sendable {
        /// The forward's status when the subscriber joined (the first updates of a stream).
        case snapshot
        /// Started by the user, auto-start or a restart.
        case started
        /// Something the running forward reported.
        case event(ForwardEvent)
        /// The run failed; it is tried again after a delay (the state says when).
        case failed(ForwardError)
        /// A command reached the forward.
        case command(ForwardCommand)
        /// The forward stopped.
        case stopped
    }

    /// The forward's id in this process: kept across restarts and reloads.
    public let id: UUID
    public let change: Change
    /// The forward's status after the change.
    public let status: ForwardStatus
    /// Whether the status differs from before the change (a `routed` event changes nothing).
    public let statusChanged: Bool
    public let time: Date

    public var alias: String { self.status.alias }
}

/// What can be asked of a running forward.
public enum ForwardCommand: Sendable, Equatable {
    case stop
    /// Close its ports and sessions and run it again.
    case restart
    /// Run it with another spec (a restart when it runs).
    case reload(ForwardSpec)

    /// `stop`, `restart`, `reload`, as the event stream names it.
    public var name: String {
        switch self {
        case .stop: "stop"
        case .restart: "restart"
        case .reload: "reload"
        }
    }
}
