import Testing

@testable import Forwarding

/// Sleep, frozen processes and clock jumps, told from clock readings alone.
@Suite struct WakeDetectorTests {
    func sample(_ monotonic: Double, boot: Double?, wall: Double) -> WakeDetector.Sample {
        WakeDetector.Sample(monotonic: .seconds(monotonic), boot: boot.map { .seconds($0) }, wall: wall)
    }

    @Test func steadyReadingsAndSchedulingNoiseFindNothing() {
        var detector = WakeDetector(interval: .seconds(5))
        #expect(detector.observe(self.sample(100, boot: 200, wall: 1000)) == nil, "the first reading has nothing to compare")
        #expect(detector.observe(self.sample(105, boot: 205, wall: 1005)) == nil)
        #expect(detector.observe(self.sample(112, boot: 212, wall: 1012)) == nil, "2 s late is a busy machine")
    }

    @Test func theBootClockRunningAheadIsASleep() {
        var detector = WakeDetector(interval: .seconds(5))
        _ = detector.observe(self.sample(100, boot: 200, wall: 1000))
        #expect(detector.observe(self.sample(105, boot: 805, wall: 1605)) == .slept(.seconds(600)))
        #expect(WakeDetector.Finding.slept(.seconds(600)).reason == "woke after 600 s asleep")
    }

    @Test func aLateReadingWithBothClocksAgreeingIsAFrozenProcess() {
        var detector = WakeDetector(interval: .seconds(5))
        _ = detector.observe(self.sample(100, boot: 200, wall: 1000))
        #expect(detector.observe(self.sample(135, boot: 235, wall: 1035)) == .frozen(.seconds(30)))
    }

    @Test func withoutABootClockTheWallClockTellsASleep() {
        var detector = WakeDetector(interval: .seconds(5))
        _ = detector.observe(self.sample(100, boot: nil, wall: 1000))
        #expect(detector.observe(self.sample(105, boot: nil, wall: 1065)) == .clockJumped(.seconds(60)))
    }
}
