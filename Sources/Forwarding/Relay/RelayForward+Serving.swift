import KubeClient
import NIOCore
import RelayProtocol

extension RelayForward {
    /// One local TCP connection: a stream to the relay that starts with the header; the relay's
    /// status byte is taken off the front of the answer. Its way is a ``ConnectionMachine`` with
    /// the relay policy, the relay pod its one candidate: a stream the relay pod's runtime could
    /// not dial (the relay is being replaced) goes to the relay that replaces it, or to the same
    /// one after a pause, with what the connection sent so far, until
    /// ``ResilientForward/podWait`` runs out; an API server that cannot be reached holds it.
    func serve(_ local: any Channel, mapping: PortMapping, target: RelayTarget, route: RelayRoute, events: @escaping @Sendable (ForwardEvent) -> Void) async {
        var machine = ConnectionMachine(policy: .relay)
        if machine.count() { events(.connection(local: mapping.local, remote: mapping.remote)) }
        let fail: @Sendable (ForwardError) -> Void = { error in
            local.close(promise: nil)
            events(.connectionFailed(local: mapping.local, remote: mapping.remote, error))
        }
        do {
            try await local.eventLoop.submit {
                try local.pipeline.syncOperations.addHandler(RelayStatusHandler { status in fail(ForwardError(code: .relay, "\(target): \(status)")) })
            }.get()
        } catch {
            local.close(promise: nil)
            return
        }
        await withTaskCancellationHandler {
            let deadline = ContinuousClock.now + self.forward.podWait
            var backoff = Backoff(initial: .milliseconds(100), cap: .seconds(2))
            while true {
                let endpoint: RelayPods.Endpoint
                do throws(ForwardError) { endpoint = try await route.endpoint() } catch {
                    fail(error)
                    return
                }
                let offered = machine.offer([PodChoice(pod: endpoint.pod, port: RelaySettings.port)], route: nil) {
                    ForwardError(code: .relay, "the relay \(endpoint.pod) takes no stream")
                }
                var next: ConnectionMachine.Action
                switch offered {
                case .open, .openChosen:
                    next = await Self.attempt(local, target: target, endpoint: endpoint, route: route, machine: &machine)
                default:
                    next = offered
                }
                await route.finished(endpoint)
                switch next {
                case .finish:
                    return
                case .fail(let error):
                    fail(error)
                    return
                case .offerAgain:
                    // Refused: another relay may stand there now (the same one is held below).
                    await route.suspect(endpoint)
                case .hold, .redial:
                    // The same relay refused, or the API server cannot be reached: try again
                    // after a pause, until the pod wait runs out.
                    guard ContinuousClock.now < deadline else {
                        if case .fail(let error) = machine.deadlinePassed(target: self.forward.target, wait: self.forward.podWait) { fail(error) }
                        return
                    }
                    let pause = if case .redial(_, let after, _) = next { after } else { backoff.next() }
                    try? await Task.sleep(until: min(deadline, ContinuousClock.now + pause))
                    _ = machine.podsChanged()
                case .open, .openChosen:
                    continue
                }
            }
        } onCancel: {
            local.close(promise: nil)
        }
    }

    /// One stream to the relay for a local connection, the header first, then what earlier
    /// attempts took from the connection; returns what the machine says once the stream could
    /// not open or ended.
    private static func attempt(
        _ local: any Channel, target: RelayTarget, endpoint: RelayPods.Endpoint, route: RelayRoute, machine: inout ConnectionMachine
    ) async -> ConnectionMachine.Action {
        machine.chose(PodChoice(pod: endpoint.pod, port: RelaySettings.port), route: nil)
        var first = RelayHeader(.tcp, target: target, secret: endpoint.secret).bytes
        let headerLength = first.readableBytes
        if let replay = machine.replay { first.writeImmutableBuffer(replay) }
        let stream: any PortForwardStream
        do throws(PortForwardError) {
            stream = try await route.open(endpoint, on: local.eventLoop)
        } catch {
            return machine.openFailed(error)
        }
        machine.joined()
        do throws(PortForwardError) {
            switch try await stream.splice(with: local, replaying: first) {
            case .finished:
                return machine.ended(.finished)
            case .refusedBeforeResponse(let error, var bytes):
                // The next relay gets a header of its own.
                bytes.moveReaderIndex(forwardBy: min(headerLength, bytes.readableBytes))
                return machine.ended(.refusedBeforeResponse(error, replay: bytes))
            }
        } catch {
            return machine.broke(error)
        }
    }

    /// One local UDP peer: its flow's stream to the relay, through a pipe whose inner end speaks
    /// the framing. When the stream ends the flow ends; the peer's next datagram opens another.
    func serve(
        _ flow: NIOLoopBound<UDPFlow>, socket: any Channel, mapping: PortMapping, target: RelayTarget, route: RelayRoute,
        events: @escaping @Sendable (ForwardEvent) -> Void
    ) async {
        events(.connection(local: mapping.local, remote: mapping.remote))
        let loop = flow.eventLoop
        let end: @Sendable () -> Void = { loop.execute { flow.value.close() } }
        await withTaskCancellationHandler {
            do {
                try await route.withEndpoint { endpoint in
                    let pipe = try await LocalPipe.make(on: loop) { inner in
                        try inner.pipeline.syncOperations.addHandler(RelayDatagramHandler(flow: flow.value, socket: socket))
                    }
                    defer {
                        pipe.spliced.close(promise: nil)
                        pipe.inner.close(promise: nil)
                    }
                    let header = RelayHeader(.udp, target: target, secret: endpoint.secret)
                    try await loop.submit { flow.value.attach(pipe.inner, header: header) }.get()
                    do throws(PortForwardError) {
                        try await route.open(endpoint, on: loop).splice(with: pipe.spliced)
                    } catch {
                        if error.backendNeverSawData { await route.suspect(endpoint) }
                        throw error
                    }
                }
            } catch let error as PortForwardError {
                events(.connectionFailed(local: mapping.local, remote: mapping.remote, ForwardError(error)))
            } catch let error as ForwardError {
                events(.connectionFailed(local: mapping.local, remote: mapping.remote, error))
            } catch {
                events(.connectionFailed(local: mapping.local, remote: mapping.remote, ForwardError(code: .relay, "\(error)")))
            }
            end()
        } onCancel: {
            end()
        }
    }
}
