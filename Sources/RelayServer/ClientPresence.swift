import NIOCore
import Synchronization

/// Counts the clients connected to the relay and fires once nobody has been connected for the
/// idle period (counting from start, so a relay nobody ever reaches exits too).
final class ClientPresence: Sendable {
    private struct State {
        var clients = 0
        var timer: Scheduled<Void>?
    }

    private let state = Mutex(State())
    private let eventLoop: any EventLoop
    private let idle: TimeAmount
    private let expired: EventLoopPromise<Void>

    /// Completes when the relay has been without clients for the idle period.
    var idleExpired: EventLoopFuture<Void> { self.expired.futureResult }

    init(idle: TimeAmount, eventLoop: any EventLoop) {
        self.idle = idle
        self.eventLoop = eventLoop
        self.expired = eventLoop.makePromise()
        self.state.withLock { $0.timer = self.schedule() }
    }

    func arrived() {
        self.state.withLock { state in
            state.clients += 1
            state.timer?.cancel()
            state.timer = nil
        }
    }

    func left() {
        self.state.withLock { state in
            state.clients -= 1
            if state.clients == 0 { state.timer = self.schedule() }
        }
    }

    /// Stops the timer (the relay is stopping for another reason).
    func cancel() {
        self.state.withLock { $0.timer?.cancel() }
        self.expired.fail(CancellationError())
    }

    private func schedule() -> Scheduled<Void> {
        self.eventLoop.scheduleTask(in: self.idle) { [self] in
            // A client may have arrived after the timer fired but before this ran.
            if self.state.withLock({ $0.clients == 0 }) { self.expired.succeed() }
        }
    }
}
