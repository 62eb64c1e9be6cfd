import Foundation
import KubeClient

/// How one cluster's connections get through a network change, as a value: the change is let
/// settle, then the cluster's own API server is probed (with backoff and jitter while it does
/// not answer), and when it answers its connections are re-established. It does no I/O: the
/// ``NetworkWatch`` runner feeds it events and carries out the actions it returns.
/// `Tests/ForwardingTests/ClusterRecoveryTests.swift` covers every transition.
struct ClusterRecovery: Sendable {
    enum State: Sendable, Equatable {
        /// Nothing to do.
        case steady
        /// A change was seen; the probe comes at `until` unless another change pushes it back.
        case settling(reason: String, until: ContinuousClock.Instant, outageSince: Date?)
        /// A probe is out.
        case probing(reason: String, outageSince: Date?)
        /// The last probe failed; the next goes out at `until`.
        case waiting(reason: String, until: ContinuousClock.Instant, outageSince: Date)
    }

    enum Action: Sendable, Equatable {
        /// Tell the cluster's forwards.
        case announce(NetworkNotice)
        /// Probe the API server now, and report with ``probed(error:now:date:)``.
        case probe
        /// Close what predates the change and re-dial: the cluster answers (`outage` long it
        /// did not).
        case reestablish(outage: Duration, reason: String)
    }

    private(set) var state: State = .steady
    private var backoff: Backoff

    init(backoff: Backoff = Backoff(initial: .milliseconds(500), cap: .seconds(30))) {
        self.backoff = backoff
    }

    /// When ``tick(now:)`` has something to do.
    var deadline: ContinuousClock.Instant? {
        switch self.state {
        case .settling(_, let until, _), .waiting(_, let until, _): until
        case .steady, .probing: nil
        }
    }

    /// The machine's network changed (`settle` > 0: let it settle first), or the machine woke
    /// or the process was frozen (`settle` zero: probe at once). A change while a probe is out
    /// leaves the probe to answer; one while waiting to retry probes sooner.
    mutating func changed(reason: String, settle: Duration, now: ContinuousClock.Instant) -> [Action] {
        let notice = Action.announce(.changed(reason: reason, settle: settle))
        switch self.state {
        case .probing:
            return [notice]
        case .steady, .settling, .waiting:
            let outage: Date? = switch self.state {
            case .settling(_, _, let since): since
            case .waiting(_, _, let since): since
            default: nil
            }
            if settle > .zero {
                self.state = .settling(reason: reason, until: now + settle, outageSince: outage)
                return [notice]
            }
            self.state = .probing(reason: reason, outageSince: outage)
            return [notice, .probe]
        }
    }

    /// Time passed: a settle or a wait that has run out sends the probe.
    mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        switch self.state {
        case .settling(let reason, let until, let since) where now >= until:
            self.state = .probing(reason: reason, outageSince: since)
            return [.probe]
        case .waiting(let reason, let until, let since) where now >= until:
            self.state = .probing(reason: reason, outageSince: since)
            return [.probe]
        default:
            return []
        }
    }

    /// The probe's answer: nil when the API server answered, else why not.
    mutating func probed(error: String?, now: ContinuousClock.Instant, date: Date) -> [Action] {
        guard case .probing(let reason, let since) = self.state else { return [] }
        guard let error else {
            self.state = .steady
            self.backoff = Backoff(initial: self.backoff.initial, cap: self.backoff.cap)
            let outage = since.map { Duration.seconds(date.timeIntervalSince($0)) } ?? .zero
            return [.reestablish(outage: outage, reason: reason)]
        }
        let delay = self.backoff.next(now: now)
        let outageSince = since ?? date
        self.state = .waiting(reason: reason, until: now + delay, outageSince: outageSince)
        return [.announce(.unreachable(error: error, since: outageSince, retry: delay))]
    }
}
