import Testing

@testable import Forwarding

/// Every transition of a supervised forward's lifecycle, on values: what state it moves to and
/// what the runner is told to do.
@Suite struct ForwardLifecycleTests {
    typealias State = ForwardLifecycle.State
    let busy = ForwardError(code: .portBusy, "local port 8080 on 127.0.0.1 is already in use")
    let unreachable = ForwardError(code: .clusterUnreachable, "cannot reach cluster 'c' at https://127.0.0.1:6443")
    let noService = ForwardError(code: .serviceMissing, "service webb does not exist in namespace shop")

    private func serving(_ pods: [String] = ["web-1"]) -> ForwardLifecycle {
        var lifecycle = ForwardLifecycle()
        _ = lifecycle.start()
        lifecycle.podsChanged(pods, reason: nil)
        return lifecycle
    }

    private func retrying() -> ForwardLifecycle {
        var lifecycle = ForwardLifecycle()
        _ = lifecycle.start()
        _ = lifecycle.runEnded(self.busy, retryAfter: .seconds(2))
        return lifecycle
    }

    @Test func startRunsOnceFromStopped() {
        var lifecycle = ForwardLifecycle()
        #expect(lifecycle.state == .stopped)
        #expect(lifecycle.start() == .run)
        #expect(lifecycle.state == .starting(blocked: nil))
        #expect(lifecycle.state.name == "starting")
        #expect(lifecycle.start() == .none, "a second start of a running forward does nothing")
    }

    @Test func firstPodsMakeItRunningAndAnEmptySetWaitsWithItsReason() {
        var lifecycle = ForwardLifecycle()
        _ = lifecycle.start()
        lifecycle.podsChanged(["web-1", "web-2"], reason: nil)
        #expect(lifecycle.state.name == "running")
        #expect(lifecycle.state.pods == ["web-1", "web-2"])
        #expect(lifecycle.state.reason == nil)
        lifecycle.podsChanged([], reason: self.noService)
        #expect(lifecycle.state.name == "waiting")
        #expect(lifecycle.state.reason == self.noService)
        #expect(lifecycle.state.pods.isEmpty)
        lifecycle.podsChanged([], reason: nil)
        #expect(lifecycle.state.reason?.code == .noReadyPod, "an empty set always says why")
    }

    @Test func refusedFirstListWaitsWithTheRefusalUntilTheListComes() {
        var lifecycle = ForwardLifecycle()
        _ = lifecycle.start()
        let credentials = ForwardError(code: .credentials, "exec plugin 'aws' for user 'u' could not be started")
        lifecycle.apiChanged(credentials)
        #expect(lifecycle.state == .starting(blocked: credentials))
        #expect(lifecycle.state.name == "waiting")
        #expect(lifecycle.state.reason == credentials)
        lifecycle.apiChanged(nil)
        #expect(lifecycle.state.name == "starting")
        lifecycle.podsChanged(["web-1"], reason: nil)
        #expect(lifecycle.state.name == "running")
    }

    @Test func anUnreachableAPIServerDegradesAndItsReturnRecovers() {
        var lifecycle = self.serving()
        lifecycle.apiChanged(self.unreachable)
        #expect(lifecycle.state.name == "degraded")
        #expect(lifecycle.state.reason == self.unreachable)
        #expect(lifecycle.state.pods == ["web-1"], "connections keep going to the pods last seen")
        lifecycle.podsChanged([], reason: self.noService)
        #expect(lifecycle.state.name == "waiting")
        #expect(lifecycle.state.reason == self.unreachable, "the outage is the reason, not what the stale store says")
        lifecycle.apiChanged(nil)
        #expect(lifecycle.state.reason == self.noService)
        lifecycle.podsChanged(["web-2"], reason: nil)
        #expect(lifecycle.state.name == "running")
    }

    @Test func aFailedRunRetriesAfterTheDelayAndCountsAttempts() {
        var lifecycle = ForwardLifecycle()
        _ = lifecycle.start()
        #expect(lifecycle.runEnded(self.busy, retryAfter: .seconds(2)) == .wait(.seconds(2)))
        #expect(lifecycle.state == .retrying(self.busy, attempt: 1, delay: .seconds(2)))
        #expect(lifecycle.state.name == "retrying")
        #expect(lifecycle.state.reason == self.busy)
        #expect(lifecycle.retryDue() == .run)
        #expect(lifecycle.state == .starting(blocked: nil))
        #expect(lifecycle.runEnded(self.busy, retryAfter: .seconds(4)) == .wait(.seconds(4)))
        #expect(lifecycle.attempt == 2)
        _ = lifecycle.retryDue()
        lifecycle.podsChanged(["web-1"], reason: nil)
        #expect(lifecycle.attempt == 0, "serving pods resets the count")
    }

    @Test func aRunThatEndsByItselfStops() {
        var lifecycle = self.serving()
        #expect(lifecycle.runEnded(nil, retryAfter: .zero) == .finish)
        #expect(lifecycle.state == .stopped)
    }

    @Test(arguments: ["starting", "serving", "retrying"])
    func stopCancelsWhatRunsThenFinishes(from: String) {
        var lifecycle =
            switch from {
            case "serving": self.serving()
            case "retrying": self.retrying()
            default: { var l = ForwardLifecycle(); _ = l.start(); return l }()
            }
        #expect(lifecycle.stop() == .cancel)
        #expect(lifecycle.state == .stopping(restart: false))
        #expect(lifecycle.stop() == .none, "a second stop waits for the first")
        lifecycle.podsChanged(["web-9"], reason: nil)
        lifecycle.apiChanged(self.unreachable)
        #expect(lifecycle.state == .stopping(restart: false), "a stopping forward's late events change nothing")
        let ended = from == "retrying" ? lifecycle.retryDue() : lifecycle.runEnded(self.busy, retryAfter: .seconds(1))
        #expect(ended == .finish, "a failure while stopping is not retried")
        #expect(lifecycle.state == .stopped)
    }

    @Test(arguments: ["starting", "serving", "retrying"])
    func restartCancelsThenRunsAgainWithAttemptsAfresh(from: String) {
        var lifecycle =
            switch from {
            case "serving": self.serving()
            case "retrying": self.retrying()
            default: { var l = ForwardLifecycle(); _ = l.start(); return l }()
            }
        #expect(lifecycle.restart() == .cancel)
        #expect(lifecycle.state == .stopping(restart: true))
        #expect(lifecycle.state.name == "stopping")
        #expect(lifecycle.restart() == .none)
        let ended = from == "retrying" ? lifecycle.retryDue() : lifecycle.runEnded(nil, retryAfter: .zero)
        #expect(ended == .run)
        #expect(lifecycle.state == .starting(blocked: nil))
        #expect(lifecycle.attempt == 0)
    }

    @Test func restartOfAStoppedForwardStartsIt() {
        var lifecycle = ForwardLifecycle()
        #expect(lifecycle.restart() == .run)
        #expect(lifecycle.state == .starting(blocked: nil))
    }

    @Test func stopAfterRestartWinsAndRestartAfterStopIsIgnored() {
        var lifecycle = self.serving()
        _ = lifecycle.restart()
        #expect(lifecycle.stop() == .none)
        #expect(lifecycle.state == .stopping(restart: false))
        #expect(lifecycle.runEnded(nil, retryAfter: .zero) == .finish)

        var other = self.serving()
        _ = other.stop()
        #expect(other.restart() == .none)
        #expect(other.state == .stopping(restart: false))
    }

    @Test func eventsOutsideARunChangeNothing() {
        var lifecycle = ForwardLifecycle()
        lifecycle.podsChanged(["web-1"], reason: nil)
        lifecycle.apiChanged(self.unreachable)
        #expect(lifecycle.state == .stopped)
        #expect(lifecycle.retryDue() == .finish)
        var waiting = self.retrying()
        lifecycle.podsChanged(["web-1"], reason: nil)
        waiting.apiChanged(self.unreachable)
        #expect(waiting.state == .retrying(self.busy, attempt: 1, delay: .seconds(2)))
        #expect(self.serving().state.name == "running")
        var running = self.serving()
        #expect(running.retryDue() == .none, "no retry is due while serving")
    }

    @Test func everyStateHasAListedName() {
        let states: [State] = [
            .stopped, .starting(blocked: nil), .starting(blocked: self.unreachable), .serving(.init(pods: ["a"], emptyReason: nil, apiError: nil)),
            .serving(.init(pods: [], emptyReason: self.noService, apiError: nil)), .serving(.init(pods: ["a"], emptyReason: nil, apiError: self.unreachable)),
            .retrying(self.busy, attempt: 1, delay: .seconds(1)), .stopping(restart: true),
        ]
        for state in states { #expect(State.names.contains(state.name)) }
        #expect(Set(states.map(\.name)) == Set(State.names))
    }
}
