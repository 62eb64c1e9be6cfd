import Signals
import Synchronization

/// What a forward's probes found of each pod it uses, shared by the prober (writing) and the
/// picker (reading); every change fires ``ticker``, so that pickers read again. A pod counts as
/// failing after ``threshold`` failed probes in a row (one slow answer on a busy machine moves
/// no traffic), and as passing again at its first pass.
final class PodHealth: Sendable {
    private struct State {
        var failing: [String: String] = [:]
        var strikes: [String: Int] = [:]
    }

    private let state = Mutex(State())
    let ticker = Ticker()
    let threshold: Int

    init(threshold: Int = 2) {
        self.threshold = threshold
    }

    /// The pods failing their probe, with why.
    var failures: [String: String] { self.state.withLock { $0.failing } }

    /// Records a probe's verdict; true when it changed what is known of the pod.
    func record(_ pod: String, _ verdict: ProbeSpec.Verdict) -> Bool {
        let changed = self.state.withLock { state in
            let before = state.failing[pod]
            switch verdict {
            case .healthy:
                state.strikes[pod] = nil
                state.failing[pod] = nil
            case .failing(let reason):
                let strikes = state.strikes[pod, default: 0] + 1
                state.strikes[pod] = strikes
                if strikes >= self.threshold { state.failing[pod] = reason }
            }
            return before != state.failing[pod]
        }
        if changed { self.ticker.fire() }
        return changed
    }

    /// Forgets pods no longer in use.
    func retain(_ pods: Set<String>) {
        let changed = self.state.withLock { state in
            let before = state.failing.count
            state.failing = state.failing.filter { pods.contains($0.key) }
            state.strikes = state.strikes.filter { pods.contains($0.key) }
            return state.failing.count != before
        }
        if changed { self.ticker.fire() }
    }
}
