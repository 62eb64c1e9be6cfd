/// client-go's reflector backoff (`wait.Backoff{Duration: 800ms, Factor: 2, Jitter: 1, Cap: 30s}`
/// with a reset after 2 minutes without failure): delays are uniform in [d, 2d), d doubling from
/// 800 ms up to 30 s. The supervisor uses the same schedule for forwards that cannot start.
public struct Backoff: Sendable {
    public var initial: Duration = .milliseconds(800)
    public var cap: Duration = .seconds(30)
    public var resetAfter: Duration = .seconds(120)
    private var current: Duration?
    private var lastFailure: ContinuousClock.Instant?

    public init() {}

    public init(initial: Duration, cap: Duration) {
        self.initial = initial
        self.cap = cap
    }

    /// The delay before the next attempt, after a failure at `now`.
    public mutating func next(now: ContinuousClock.Instant = .now) -> Duration {
        if let lastFailure, now - lastFailure > self.resetAfter { self.current = nil }
        self.lastFailure = now
        let base = self.current.map { min($0 * 2, self.cap) } ?? self.initial
        self.current = base
        return base * Double.random(in: 1..<2)
    }
}
