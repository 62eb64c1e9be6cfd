import Foundation

/// Notices, from clock readings taken at a steady interval, that the machine slept or the
/// process was frozen: the boot clock (which counts suspended time) ran ahead of the monotonic
/// clock (which does not), the wall clock jumped ahead of both, or a reading came far later
/// than asked (a process stopped with SIGSTOP, a VM paused). A value; ``ClockWatch`` reads the
/// clocks and feeds it.
struct WakeDetector: Sendable {
    struct Sample: Sendable, Equatable {
        /// CLOCK_MONOTONIC: stops while the machine is suspended.
        var monotonic: Duration
        /// CLOCK_BOOTTIME: counts suspended time (nil where there is none).
        var boot: Duration?
        /// Seconds since 1970, as the wall clock says.
        var wall: Double
    }

    enum Finding: Sendable, Equatable {
        /// The machine was suspended this long.
        case slept(Duration)
        /// The process did not run for this long beyond the interval.
        case frozen(Duration)
        /// The wall clock moved this much further than the monotonic clock (a suspend where
        /// there is no boot clock, or a clock set forward).
        case clockJumped(Duration)

        var reason: String {
            switch self {
            case .slept(let duration): "woke after \(Self.seconds(duration)) s asleep"
            case .frozen(let duration): "kfwd did not run for \(Self.seconds(duration)) s"
            case .clockJumped(let duration): "the clock jumped \(Self.seconds(duration)) s"
            }
        }

        private static func seconds(_ duration: Duration) -> Int {
            Int(duration.components.seconds)
        }
    }

    /// How often readings are taken.
    let interval: Duration
    /// Lateness and drift below this are scheduling noise on a busy machine.
    let tolerance: Duration
    private var last: Sample?

    init(interval: Duration, tolerance: Duration = .seconds(3)) {
        self.interval = interval
        self.tolerance = tolerance
    }

    /// Takes a reading; what it shows against the previous one, if anything.
    mutating func observe(_ sample: Sample) -> Finding? {
        defer { self.last = sample }
        guard let last else { return nil }
        let monotonic = sample.monotonic - last.monotonic
        if let boot = sample.boot, let lastBoot = last.boot {
            let suspended = (boot - lastBoot) - monotonic
            if suspended > self.tolerance { return .slept(suspended) }
        } else {
            let wall = Duration.seconds(sample.wall - last.wall)
            if wall - monotonic > self.tolerance { return .clockJumped(wall - monotonic) }
        }
        if monotonic - self.interval > self.tolerance { return .frozen(monotonic - self.interval) }
        return nil
    }
}
