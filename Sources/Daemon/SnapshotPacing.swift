/// When a live view of the saved forwards (the dashboard's events, `GET /v1/forwards?follow`)
/// takes a new snapshot. Every local connection is a status change: under load a snapshot is
/// taken at most every ``gap``, and what came between goes with the next tick. Byte counts
/// change without a status change and are sent within a second.
struct SnapshotPacing: Sendable {
    enum Wake: Sendable, Equatable {
        /// A forward's status changed.
        case status
        /// The saved forwards changed.
        case stored
        /// Every ``tick``.
        case tick
    }

    static let gap = Duration.milliseconds(200)
    static let tick = Duration.milliseconds(250)
    static let trafficEvery = Duration.seconds(1)

    private var taken: ContinuousClock.Instant?
    private var pending = false

    /// Whether to take a snapshot now.
    mutating func wake(_ wake: Wake, at now: ContinuousClock.Instant) -> Bool {
        let since = self.taken.map { now - $0 }
        switch wake {
        case .status, .stored:
            if let since, since < Self.gap {
                self.pending = true
                return false
            }
        case .tick:
            if !self.pending, let since, since < Self.trafficEvery { return false }
        }
        self.pending = false
        self.taken = now
        return true
    }
}
