import Testing

@testable import KubeClient

@Suite struct BackoffTests {
    @Test func doublesWithJitterUpToTheCapAndResetsAfterAQuietPeriod() {
        var backoff = Backoff()
        let start = ContinuousClock.now
        var delays: [Duration] = []
        for step in 0..<8 { delays.append(backoff.next(now: start + .seconds(step))) }
        let bases: [Duration] = [.milliseconds(800), .milliseconds(1600), .milliseconds(3200), .milliseconds(6400), .milliseconds(12800), .milliseconds(25600), .seconds(30), .seconds(30)]
        for (delay, base) in zip(delays, bases) {
            #expect(delay >= base && delay < base * 2)
        }
        let afterQuiet = backoff.next(now: start + .seconds(8 + 121))
        #expect(afterQuiet >= .milliseconds(800) && afterQuiet < .milliseconds(1600))
    }
}
