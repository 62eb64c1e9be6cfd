import NIOCore
import Synchronization

/// Where one listener's accepted connections go. A connection the forward joins to its pod's
/// session as it is accepted is served on its event loop alone, with no task: the data plane
/// needs none, and a task per connection cost a third of kfwd's CPU per new connection. The
/// rest (no session up yet, a stream refused before the pod answered) are served by a task
/// each, which ``ListenerSet/serve(events:_:)`` runs.
///
/// Events raised on the loop are reported by a task too: reporting may print, and a terminal
/// that does not read must never hold up the loop that carries every connection's bytes. They
/// go in batches, ``reportDelay`` after the first of each: waking the task for every new
/// connection cost a tenth of kfwd's CPU per connection, taken at the very moment the cluster
/// side needs it, and a line about a connection is no worse for coming a few milliseconds late.
final class AcceptedConnections: Sendable {
    static let reportDelay: TimeAmount = .milliseconds(10)

    /// The mapping as asked for; the local port may still be 0 (see ``mapping(of:)``).
    let requested: PortMapping
    let forTasks: AsyncStream<Handoff>
    /// What the loops reported, in order, a batch at a time.
    let events: AsyncStream<[ForwardEvent]>
    private let taskQueue: AsyncStream<Handoff>.Continuation
    private let eventQueue: AsyncStream<[ForwardEvent]>.Continuation
    /// Reported and not yet handed on; a flush is scheduled whenever this is not empty.
    private let unreported = Mutex<[ForwardEvent]>([])
    /// Every connection still open, closed when the forward stops (also those waiting for a
    /// task, which no task will take then).
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(requested: PortMapping) {
        self.requested = requested
        (self.forTasks, self.taskQueue) = AsyncStream.makeStream()
        (self.events, self.eventQueue) = AsyncStream.makeStream()
    }

    /// The mapping a connection came in on, its local port the one actually bound.
    func mapping(of local: any Channel) -> PortMapping {
        PortMapping(local: local.localAddress?.port ?? self.requested.local, remote: self.requested.remote)
    }

    /// Keeps a connection just accepted until it closes, so that stopping closes it.
    func track(_ local: any Channel) {
        let id = ObjectIdentifier(local)
        self.open.withLock { $0[id] = local }
        local.closeFuture.whenComplete { _ in _ = self.open.withLock { $0.removeValue(forKey: id) } }
    }

    /// A connection for a task, with what its event loop decided for it.
    struct Handoff: Sendable {
        let local: any Channel
        let machine: ConnectionMachine?
    }

    /// Hands a connection to a task: one not joined at accept, or one whose stream was refused.
    func serveInTask(_ local: any Channel, _ machine: ConnectionMachine? = nil) {
        // What the loop said about it comes before what its task will say.
        self.flush()
        if case .terminated = self.taskQueue.yield(Handoff(local: local, machine: machine)) { local.close(promise: nil) }
    }

    /// Reports `event`, raised on `loop`, with the others of its batch.
    func report(_ event: ForwardEvent, on loop: any EventLoop) {
        let first = self.unreported.withLock { unreported in
            unreported.append(event)
            return unreported.count == 1
        }
        guard first else { return }
        loop.scheduleTask(in: Self.reportDelay) { self.flush() }
    }

    private func flush() {
        let batch = self.unreported.withLock { unreported in
            defer { unreported = [] }
            return unreported
        }
        if !batch.isEmpty { self.eventQueue.yield(batch) }
    }

    /// The forward stops: no more tasks or events, and every connection closes.
    func stop() {
        self.taskQueue.finish()
        self.flush()
        self.eventQueue.finish()
        let open = self.open.withLock { open in
            defer { open = [:] }
            return Array(open.values)
        }
        for local in open { local.close(promise: nil) }
    }
}
