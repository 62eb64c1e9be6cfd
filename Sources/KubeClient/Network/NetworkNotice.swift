import Foundation

/// What the process's network watch has to say about one cluster's connections, to whatever
/// keeps connections to it (port-forward sessions, the forwards that report it).
public enum NetworkNotice: Sendable, Equatable {
    /// The machine's network changed, or it woke: the cluster is probed once the change has
    /// settled (`settle`, zero after a wake).
    case changed(reason: String, settle: Duration)
    /// The probe of the cluster's API server failed since `since`; the next comes after `retry`.
    case unreachable(error: String, since: Date, retry: Duration)
    /// The API server answered again (`outage`: how long it did not, zero when it answered at
    /// once): connections made before the change are checked and re-dialled, watches resume.
    case reestablished(outage: Duration, reason: String)

    /// One line, as `kfwd logs` and the event stream say it.
    public var message: String {
        switch self {
        case .changed(let reason, let settle):
            settle > .zero
                ? "network changed (\(reason)), settling \(Self.seconds(settle)) s"
                : "network changed (\(reason)): checking the cluster now"
        case .unreachable(let error, let since, let retry):
            "the cluster is unreachable since \(Int(Date().timeIntervalSince(since).rounded())) s (\(error)); next try in \(Self.seconds(retry)) s"
        case .reestablished(let outage, let reason):
            outage > .zero
                ? "the cluster is reachable again after \(Self.seconds(outage)) s (\(reason)): sessions checked, watches resumed"
                : "the cluster answered after the change (\(reason)): sessions checked, watches resumed"
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let value = duration.inSeconds
        return value >= 10 || value == value.rounded() ? String(Int(value.rounded())) : String(format: "%.1f", value)
    }
}
