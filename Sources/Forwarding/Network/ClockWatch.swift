import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the clocks every `interval` and reports a wake or a frozen process (``WakeDetector``).
/// After SIGCONT or a resume, its overdue timer fires at once, so the report comes within
/// moments of the process running again.
struct ClockWatch: Sendable {
    var interval: Duration = .seconds(5)

    /// Until cancelled; `beat` hears every reading (a steady beat others may use rather than
    /// waking on their own), `report` every finding.
    func run(beat: @Sendable () -> Void = {}, _ report: @Sendable (NetworkChange) -> Void) async {
        var detector = WakeDetector(interval: self.interval)
        _ = detector.observe(Self.sample())
        while true {
            do { try await Task.sleep(for: self.interval) } catch { return }
            if let finding = detector.observe(Self.sample()) { report(NetworkChange(.wake, finding.reason)) }
            beat()
        }
    }

    static func sample() -> WakeDetector.Sample {
        #if os(Linux)
        WakeDetector.Sample(monotonic: Self.read(CLOCK_MONOTONIC), boot: Self.read(CLOCK_BOOTTIME), wall: Date().timeIntervalSince1970)
        #else
        // Darwin's CLOCK_UPTIME_RAW stops in sleep; CLOCK_MONOTONIC_RAW does not.
        WakeDetector.Sample(monotonic: Self.read(CLOCK_UPTIME_RAW), boot: Self.read(CLOCK_MONOTONIC_RAW), wall: Date().timeIntervalSince1970)
        #endif
    }

    private static func read(_ clock: clockid_t) -> Duration {
        var now = timespec()
        clock_gettime(clock, &now)
        return .seconds(Int64(now.tv_sec)) + .nanoseconds(Int64(now.tv_nsec))
    }
}
