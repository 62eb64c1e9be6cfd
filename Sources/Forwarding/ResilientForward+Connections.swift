import KubeClient
import NIOCore

/// How a forward serves one local connection: its pod chosen as it is accepted, its streams
/// joined to it then (and the connection served on its event loop alone) or by its task, and on
/// a refusal the next pod, with what the connection sent so far.
extension ResilientForward {
    /// A connection just accepted, on its event loop: its pod chosen from the current route, and
    /// its streams opened and joined to it when that pod's session is up. Then it is served
    /// there (true), until its pod refuses before answering: a task then takes it to the next
    /// pod. Warm streams, when the forward keeps them, and a transport with a connection per
    /// stream (nothing to join here) are left to the connection's task (false).
    func start(_ local: any Channel, connections: AcceptedConnections, route: CurrentRoute, chooser: PodChooser, early: EarlyChoices) -> Bool {
        guard let current = route.value, current.warm == nil, current.transport.multiplexes else { return false }
        let mapping = connections.mapping(of: local)
        let candidates = current.picker.candidates(remotePort: mapping.remote)
        guard !candidates.isEmpty else { return false }
        let choice = chooser.choose(from: candidates, sticky: self.sticky || current.picker.sticky)
        let generation = current.generation
        guard let ended = current.transport.openNow(namespace: current.namespace, pod: choice.pod, port: choice.port, joining: local) else {
            // No session up: the task opens a stream to the pod chosen here.
            early.put(EarlyChoices.Entry(choice: choice, generation: generation), for: local)
            return false
        }
        connections.report(.connection(local: mapping.local, remote: mapping.remote), on: local.eventLoop)
        connections.report(.routed(local: mapping.local, pod: choice.pod), on: local.eventLoop)
        ended.whenComplete { result in
            switch result {
            case .success(.finished):
                return
            case .success(.refusedBeforeResponse(let error, let replay)):
                early.put(EarlyChoices.Entry(choice: choice, generation: generation, refusal: (error, replay)), for: local)
                connections.serveInTask(local)
            case .failure(let error):
                connections.report(.connectionFailed(local: mapping.local, remote: mapping.remote, ForwardError(PortForwardError.from(error))), on: local.eventLoop)
            }
        }
        return true
    }

    /// One local connection. It reads nothing until its first stream is spliced (auto-read is
    /// off), so a refused upgrade costs nothing; a stream whose pod could not be dialed hands
    /// back what it read, and the next pod gets it first.
    func serve(
        _ local: any Channel, mapping: PortMapping, route: CurrentRoute, chooser: PodChooser, early: EarlyChoices.Entry?,
        events: @escaping @Sendable (ForwardEvent) -> Void
    ) async {
        var early = early
        // A connection refused on its loop was reported there already.
        if early?.refusal == nil { events(.connection(local: mapping.local, remote: mapping.remote)) }
        await withTaskCancellationHandler {
            let deadline = ContinuousClock.now + self.podWait
            var refused: Set<String> = []
            var refusedOn: Int?
            var lastError: PortForwardError?
            // What earlier streams read from the connection and no pod has seen.
            var replay = ByteBuffer()
            if let entry = early, let refusal = entry.refusal {
                // Joined as it was accepted, on the route of then, and refused there.
                early = nil
                refused.insert(entry.choice.pod)
                refusedOn = entry.generation
                lastError = refusal.error
                replay = refusal.replay
            }
            // Not `while local.isActive`: an accepted channel reaches this task before it is
            // active. A closed one ends the hold below, or its splice.
            while true {
                // Subscribed before reading the store, so a change right after the read still wakes us.
                let current = route.value
                let changes = StoreChanges((current?.picker.informers ?? []) + [route.ticker])
                if current?.generation != refusedOn {
                    // Pods that refused on another context's route may take this one's streams.
                    refused.removeAll()
                    refusedOn = current?.generation
                }
                let candidates = current?.picker.candidates(remotePort: mapping.remote).filter { !refused.contains($0.pod) } ?? []
                guard let current, !candidates.isEmpty else {
                    let reason =
                        if let lastError, !refused.isEmpty {
                            ForwardError(code: .noReadyPod, "every ready pod refused the stream (\(lastError.message))")
                        } else if let current {
                            current.picker.emptyReason(remotePort: mapping.remote)
                        } else {
                            route.blocked ?? ForwardError(code: .noReadyPod, "the first list of \(self.target) from the API server has not arrived")
                        }
                    if current == nil, reason.needsUser {
                        // Waiting cannot help (credentials, rights): refused at once, as kubectl does.
                        local.close(promise: nil)
                        events(.connectionFailed(local: mapping.local, remote: mapping.remote, reason))
                        return
                    }
                    if lastError == nil || refused.count > 0 {
                        events(.waiting(local: mapping.local, reason: reason))
                    }
                    switch await Self.next(changes, until: deadline, unless: local) {
                    case .changed:
                        refused.removeAll()
                        continue
                    case .closed:
                        return
                    case .deadline:
                        local.close(promise: nil)
                        events(.connectionFailed(local: mapping.local, remote: mapping.remote, ForwardError(
                            code: reason.code, "no ready pod of \(self.target) within \(self.podWait): \(reason.message)"
                        )))
                        return
                    }
                }
                let choice: PodChoice
                let stream: any PortForwardStream
                if refused.isEmpty, replay.readableBytes == 0,
                    let warm = current.warm?.take(on: local.eventLoop, port: mapping.remote, among: candidates)
                {
                    (choice, stream) = warm
                } else {
                    // The pod chosen at accept, when it had no session up and is still a candidate.
                    let chosen = early.flatMap { $0.generation == current.generation && candidates.contains($0.choice) ? $0.choice : nil }
                    early = nil
                    choice = chosen ?? chooser.choose(from: candidates, sticky: self.sticky || current.picker.sticky)
                    do throws(PortForwardError) {
                        stream = try await current.transport.open(namespace: current.namespace, pod: choice.pod, port: choice.port, on: local.eventLoop)
                    } catch {
                        guard error.backendNeverSawData else {
                            local.close(promise: nil)
                            events(.connectionFailed(local: mapping.local, remote: mapping.remote, ForwardError(error)))
                            return
                        }
                        refused.insert(choice.pod)
                        lastError = error
                        continue
                    }
                }
                events(.routed(local: mapping.local, pod: choice.pod))
                guard case .refused(let error, let bytes) = await Self.splice(stream, with: local, replaying: replay, mapping: mapping, events: events)
                else { return }
                refused.insert(choice.pod)
                lastError = error
                replay = bytes
            }
        } onCancel: {
            local.close(promise: nil)
        }
    }

    private enum Spliced {
        case done
        /// The pod never saw these bytes: another pod gets them.
        case refused(PortForwardError, replay: ByteBuffer)
    }

    private static func splice(
        _ stream: any PortForwardStream, with local: any Channel, replaying replay: ByteBuffer, mapping: PortMapping,
        events: @Sendable (ForwardEvent) -> Void
    ) async -> Spliced {
        do throws(PortForwardError) {
            switch try await stream.splice(with: local, replaying: replay) {
            case .finished: return .done
            case .refusedBeforeResponse(let error, let bytes): return .refused(error, replay: bytes)
            }
        } catch {
            events(.connectionFailed(local: mapping.local, remote: mapping.remote, ForwardError(error)))
            return .done
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
