import Foundation
import KubeClient
import Testing

@testable import Forwarding

/// Every transition of one cluster's way through a network change, on values: settle, probe,
/// back off while it does not answer, re-establish once it does.
@Suite struct ClusterRecoveryTests {
    let start = ContinuousClock.now
    let date = Date(timeIntervalSince1970: 1_000_000)

    @Test func aChangeSettlesThenProbesThenReestablishes() {
        var recovery = ClusterRecovery()
        #expect(recovery.changed(reason: "eth0 address removed", settle: .seconds(2), now: self.start) == [
            .announce(.changed(reason: "eth0 address removed", settle: .seconds(2)))
        ])
        #expect(recovery.deadline == self.start + .seconds(2))
        #expect(recovery.tick(now: self.start + .seconds(1)) == [], "not settled yet")
        #expect(recovery.tick(now: self.start + .seconds(2)) == [.probe])
        #expect(recovery.state == .probing(reason: "eth0 address removed", outageSince: nil))
        #expect(recovery.deadline == nil)
        #expect(recovery.probed(error: nil, now: self.start + .seconds(2), date: self.date) == [.reestablish(outage: .zero, reason: "eth0 address removed")])
        #expect(recovery.state == .steady)
    }

    @Test func changesDuringTheSettleMoveItOn() {
        var recovery = ClusterRecovery()
        _ = recovery.changed(reason: "wlan0 link down", settle: .seconds(2), now: self.start)
        _ = recovery.changed(reason: "wlan0 link up", settle: .seconds(2), now: self.start + .seconds(1))
        #expect(recovery.tick(now: self.start + .seconds(2)) == [])
        #expect(recovery.deadline == self.start + .seconds(3))
        #expect(recovery.tick(now: self.start + .seconds(3)) == [.probe])
    }

    @Test func aWakeProbesAtOnce() {
        var recovery = ClusterRecovery()
        #expect(recovery.changed(reason: "woke after 600 s asleep", settle: .zero, now: self.start) == [
            .announce(.changed(reason: "woke after 600 s asleep", settle: .zero)), .probe,
        ])
    }

    @Test func aFailingProbeBacksOffWithJitterAndTheOutageIsMeasuredFromTheFirstFailure() {
        var recovery = ClusterRecovery(backoff: Backoff(initial: .seconds(1), cap: .seconds(4)))
        _ = recovery.changed(reason: "route removed", settle: .zero, now: self.start)
        let first = recovery.probed(error: "connection refused", now: self.start, date: self.date)
        guard case .announce(.unreachable(let error, let since, let retry)) = first.first, first.count == 1 else {
            Issue.record("unreachable: \(first)")
            return
        }
        #expect(error == "connection refused" && since == self.date)
        #expect(retry >= .seconds(1) && retry < .seconds(2))
        #expect(recovery.tick(now: self.start + retry - .milliseconds(1)) == [])
        #expect(recovery.tick(now: self.start + retry) == [.probe])
        let second = recovery.probed(error: "connection refused", now: self.start + retry, date: self.date + 2)
        guard case .announce(.unreachable(_, let stillSince, let longer)) = second.first else { return }
        #expect(stillSince == self.date, "the outage began at the first failure")
        #expect(longer >= .seconds(2) && longer < .seconds(4))
        _ = recovery.tick(now: self.start + .seconds(10))
        #expect(recovery.probed(error: nil, now: self.start + .seconds(10), date: self.date + 41) == [
            .reestablish(outage: .seconds(41), reason: "route removed")
        ])
    }

    @Test func aChangeWhileWaitingToRetryKeepsTheOutageAndProbesAfterItsSettle() {
        var recovery = ClusterRecovery()
        _ = recovery.changed(reason: "wlan0 link down", settle: .zero, now: self.start)
        _ = recovery.probed(error: "network unreachable", now: self.start, date: self.date)
        #expect(recovery.changed(reason: "wlan0 address added", settle: .seconds(2), now: self.start + .milliseconds(100)) == [
            .announce(.changed(reason: "wlan0 address added", settle: .seconds(2)))
        ])
        #expect(recovery.tick(now: self.start + .milliseconds(2100)) == [.probe])
        #expect(recovery.probed(error: nil, now: self.start + .seconds(3), date: self.date + 3) == [
            .reestablish(outage: .seconds(3), reason: "wlan0 address added")
        ])
    }

    @Test func aChangeWhileAProbeIsOutLeavesItToAnswer() {
        var recovery = ClusterRecovery()
        _ = recovery.changed(reason: "a", settle: .zero, now: self.start)
        #expect(recovery.changed(reason: "b", settle: .seconds(2), now: self.start) == [.announce(.changed(reason: "b", settle: .seconds(2)))])
        #expect(recovery.state == .probing(reason: "a", outageSince: nil))
        #expect(recovery.probed(error: nil, now: self.start, date: self.date) == [.reestablish(outage: .zero, reason: "a")])
    }

    @Test func aProbeAnswerWithNoProbeOutIsIgnored() {
        var recovery = ClusterRecovery()
        #expect(recovery.probed(error: nil, now: self.start, date: self.date) == [])
        #expect(recovery.tick(now: self.start + .seconds(60)) == [])
        #expect(recovery.state == .steady)
    }
}
