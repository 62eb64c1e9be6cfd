import KubeClient
import NIOCore
import RelayProtocol

extension RelayForward {
    /// One local TCP connection: a stream to the relay that starts with the header; the relay's
    /// status byte is taken off the front of the answer. A stream the relay pod's runtime could
    /// not dial (the relay is being replaced) is tried again on the next relay, with what the
    /// connection sent so far, until ``ResilientForward/podWait`` runs out.
    func serve(_ local: any Channel, mapping: PortMapping, target: RelayTarget, route: RelayRoute, events: @escaping @Sendable (ForwardEvent) -> Void) async {
        events(.connection(local: mapping.local, remote: mapping.remote))
        let fail: @Sendable (String) -> Void = { message in
            local.close(promise: nil)
            events(.connectionFailed(local: mapping.local, remote: mapping.remote, ForwardError(code: .relay, message)))
        }
        do {
            try await local.eventLoop.submit {
                try local.pipeline.syncOperations.addHandler(RelayStatusHandler { status in fail("\(target): \(status)") })
            }.get()
        } catch {
            local.close(promise: nil)
            return
        }
        await withTaskCancellationHandler {
            let deadline = ContinuousClock.now + self.forward.podWait
            var backoff = Backoff(initial: .milliseconds(100), cap: .seconds(2))
            var replay = ByteBuffer()
            while true {
                let endpoint: RelayPods.Endpoint
                do throws(ForwardError) { endpoint = try await route.endpoint() } catch {
                    fail(error.message)
                    return
                }
                let attempt = await Self.attempt(local, target: target, endpoint: endpoint, replay: replay, route: route)
                await route.finished(endpoint)
                let lastError: PortForwardError
                switch attempt {
                case .finished:
                    return
                case .failed(let error):
                    fail(error.message)
                    return
                case .retry(let error, let bytes):
                    replay = bytes
                    lastError = error
                }
                await route.suspect(endpoint)
                guard ContinuousClock.now < deadline else {
                    fail("the relay could not be reached within \(self.forward.podWait): \(lastError.message)")
                    return
                }
                try? await Task.sleep(for: backoff.next())
            }
        } onCancel: {
            local.close(promise: nil)
        }
    }

    private enum Attempt {
        case finished
        case failed(PortForwardError)
        /// The relay's pod never got the bytes: try again with them.
        case retry(PortForwardError, replay: ByteBuffer)
    }

    /// One stream to the relay for a local connection, the header first, then what earlier
    /// attempts took from the connection.
    private static func attempt(
        _ local: any Channel, target: RelayTarget, endpoint: RelayPods.Endpoint, replay: ByteBuffer, route: RelayRoute
    ) async -> Attempt {
        var first = RelayHeader(.tcp, target: target, secret: endpoint.secret).bytes
        let headerLength = first.readableBytes
        first.writeImmutableBuffer(replay)
        do throws(PortForwardError) {
            let stream = try await route.open(endpoint, on: local.eventLoop)
            switch try await stream.splice(with: local, replaying: first) {
            case .finished:
                return .finished
            case .refusedBeforeResponse(let error, var bytes):
                bytes.moveReaderIndex(forwardBy: min(headerLength, bytes.readableBytes))
                return .retry(error, replay: bytes)
            }
        } catch {
            return error.backendNeverSawData ? .retry(error, replay: replay) : .failed(error)
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
