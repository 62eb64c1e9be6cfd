import Testing

@testable import Daemon

/// When a live view of the forwards (the dashboard's events, `GET /v1/forwards?follow`) takes a
/// snapshot.
struct SnapshotPacingTests {
    let start = ContinuousClock.now

    @Test func theFirstWakeTakesOneAndChangesWithinTheGapWaitForTheNextTick() {
        var pacing = SnapshotPacing()
        func takes(_ wake: SnapshotPacing.Wake, after milliseconds: Int) -> Bool { pacing.wake(wake, at: self.start + .milliseconds(milliseconds)) }
        #expect(takes(.stored, after: 0))
        #expect(!takes(.status, after: 50), "too soon after the last")
        #expect(!takes(.stored, after: 150))
        #expect(takes(.tick, after: 250), "what came between goes with the next tick")
        #expect(!takes(.tick, after: 500), "nothing pending: ticks wait a second")
    }

    @Test func aChangeAfterTheGapIsTakenAtOnceAndTicksAloneTakeOneEverySecond() {
        var pacing = SnapshotPacing()
        func takes(_ wake: SnapshotPacing.Wake, after milliseconds: Int) -> Bool { pacing.wake(wake, at: self.start + .milliseconds(milliseconds)) }
        #expect(takes(.status, after: 0))
        #expect(takes(.status, after: 200))
        #expect(!takes(.tick, after: 700))
        #expect(takes(.tick, after: 1200), "byte counts within a second")
    }
}
