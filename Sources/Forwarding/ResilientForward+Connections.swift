import KubeClient
import NIOCore

/// How a forward serves one local connection: its pod chosen as it is accepted, its streams
/// joined to it then (and the connection served on its event loop alone) or by its task, and on
/// a refusal the next pod, with what the connection sent so far.
extension ResilientForward {
    /// A connection just accepted, on its event loop: its pod chosen from the current route, and
    /// its streams opened and joined to it when that pod's session is up. Then it is served
    /// there (true), until its pod refuses before answering: a task then takes it, and its
    /// ``ConnectionMachine``, to the next pod. Warm streams, when the forward keeps them, and a
    /// transport with a connection per stream (nothing to join here) are left to the
    /// connection's task (false).
    func start(_ local: any Channel, connections: AcceptedConnections, route: CurrentRoute, chooser: PodChooser) -> Bool {
        guard let current = route.value, current.warm == nil, current.transport.multiplexes else { return false }
        let mapping = connections.mapping(of: local)
        var machine = ConnectionMachine(policy: .movesOn)
        let candidates = current.picker.candidates(remotePort: mapping.remote)
        guard case .open(let among) = machine.offer(candidates, route: current.generation, reason: { current.picker.emptyReason(remotePort: mapping.remote) })
        else { return false }
        let choice = chooser.choose(from: among, sticky: self.sticky || current.picker.sticky)
        machine.chose(choice, route: current.generation)
        guard let ended = current.transport.openNow(namespace: current.namespace, pod: choice.pod, port: choice.port, joining: local) else {
            // No session up: the task opens a stream to the pod chosen here.
            connections.serveInTask(local, machine)
            return true
        }
        machine.joined()
        _ = machine.count()
        connections.report(.connection(local: mapping.local, remote: mapping.remote), on: local.eventLoop)
        connections.report(.routed(local: mapping.local, pod: choice.pod), on: local.eventLoop)
        let joined = machine
        ended.whenComplete { result in
            var machine = joined
            let next =
                switch result {
                case .success(let outcome): machine.ended(outcome)
                case .failure(let error): machine.broke(PortForwardError.from(error))
                }
            switch next {
            case .offerAgain:
                connections.serveInTask(local, machine)
            case .fail(let error):
                local.close(promise: nil)
                connections.report(.connectionFailed(local: mapping.local, remote: mapping.remote, error), on: local.eventLoop)
            case .finish, .open, .openChosen, .hold, .redial:
                return
            }
        }
        return true
    }

    /// One local connection in a task: not joined at accept, or refused there. It reads nothing
    /// until its first stream is spliced (auto-read is off), so a refused upgrade costs nothing;
    /// a stream whose pod could not be dialed hands back what it read, and the next pod gets it
    /// first. Its ``ConnectionMachine`` decides each step; this runs them.
    func serve(
        _ local: any Channel, mapping: PortMapping, route: CurrentRoute, chooser: PodChooser, machine handed: ConnectionMachine?,
        events: @escaping @Sendable (ForwardEvent) -> Void
    ) async {
        var machine = handed ?? ConnectionMachine(policy: .movesOn)
        if machine.count() { events(.connection(local: mapping.local, remote: mapping.remote)) }
        await withTaskCancellationHandler {
            let deadline = ContinuousClock.now + self.podWait
            // Not `while local.isActive`: an accepted channel reaches this task before it is
            // active. A closed one ends the hold below, or its splice.
            while true {
                // Subscribed before reading the store, so a change right after the read still wakes us.
                let current = route.value
                let changes = StoreChanges((current?.picker.informers ?? []) + [route.ticker])
                let offered = machine.offer(current?.picker.candidates(remotePort: mapping.remote), route: current?.generation) {
                    current?.picker.emptyReason(remotePort: mapping.remote)
                        ?? route.blocked
                        ?? ForwardError(code: .noReadyPod, "the first list of \(self.target) from the API server has not arrived")
                }
                var next: ConnectionMachine.Action
                switch offered {
                case .open(let among):
                    guard let current else { return }
                    next = await self.open(local, among: among, chosen: nil, mapping: mapping, route: current, chooser: chooser, machine: &machine, events: events)
                case .openChosen(let choice):
                    guard let current else { return }
                    next = await self.open(local, among: [choice], chosen: choice, mapping: mapping, route: current, chooser: chooser, machine: &machine, events: events)
                case .hold(let reason, let report), .redial(let reason, _, let report):
                    if report { events(.waiting(local: mapping.local, reason: reason)) }
                    // A redial wakes before the pod wait ends, to try the same pods again.
                    let wake = if case .redial(_, let after, _) = offered { min(deadline, ContinuousClock.now + after) } else { deadline }
                    switch await Self.next(changes, until: wake, unless: local) {
                    case .changed: next = machine.podsChanged()
                    case .closed: machine.closed(); next = .finish
                    case .deadline where ContinuousClock.now < deadline: next = machine.podsChanged()
                    case .deadline: next = machine.deadlinePassed(target: self.target, wait: self.podWait)
                    }
                case let other:
                    next = other
                }
                switch next {
                case .offerAgain, .open, .openChosen, .hold, .redial:
                    continue
                case .fail(let error):
                    local.close(promise: nil)
                    events(.connectionFailed(local: mapping.local, remote: mapping.remote, error))
                    return
                case .finish:
                    return
                }
            }
        } onCancel: {
            local.close(promise: nil)
        }
    }

    /// Opens a stream (a warm one when the forward keeps them and nothing was refused or
    /// chosen yet, else to `chosen`, else to the pod the chooser picks among `among`) and splices
    /// the connection to it, replaying what earlier pods did not see; returns what the machine
    /// says once the stream could not open or ended.
    private func open(
        _ local: any Channel, among: [PodChoice], chosen: PodChoice?, mapping: PortMapping, route current: Route, chooser: PodChooser,
        machine: inout ConnectionMachine, events: @Sendable (ForwardEvent) -> Void
    ) async -> ConnectionMachine.Action {
        let stream: any PortForwardStream
        let choice: PodChoice
        if chosen == nil, machine.replay == nil, machine.refused.isEmpty,
            let warm = current.warm?.take(on: local.eventLoop, port: mapping.remote, among: among)
        {
            (choice, stream) = warm
            machine.chose(choice, route: current.generation)
        } else {
            choice = chosen ?? chooser.choose(from: among, sticky: self.sticky || current.picker.sticky)
            machine.chose(choice, route: current.generation)
            do throws(PortForwardError) {
                stream = try await current.transport.open(namespace: current.namespace, pod: choice.pod, port: choice.port, on: local.eventLoop)
            } catch {
                return machine.openFailed(error)
            }
        }
        machine.joined()
        events(.routed(local: mapping.local, pod: choice.pod))
        do throws(PortForwardError) {
            return machine.ended(try await stream.splice(with: local, replaying: machine.replay ?? ByteBuffer()))
        } catch {
            return machine.broke(error)
        }
    }

    private enum Wake { case changed, deadline, closed }

    /// Waits for the next change of the store, the deadline, or the local connection closing.
    private static func next(_ changes: StoreChanges, until deadline: ContinuousClock.Instant, unless local: any Channel) async -> Wake {
        // A future's get() cannot be cancelled; a stream finished by the close can.
        let (closed, closing) = AsyncStream<Never>.makeStream()
        local.closeFuture.whenComplete { _ in closing.finish() }
        return await withTaskGroup(of: Wake.self) { group in
            group.addTask {
                for await _ in changes.ticks { return .changed }
                return .deadline
            }
            group.addTask {
                for await _ in closed {}
                return Task.isCancelled ? .deadline : .closed
            }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return .deadline
            }
            let first = await group.next() ?? .deadline
            group.cancelAll()
            return first
        }
    }
}
