import KubeClient
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks, at an interval and in parallel, every pod a forward may send new connections to,
/// through the tunnel: a port-forward stream to the pod's port (the kubelet dials it), spliced
/// to one end of a socket pair whose other end sends the probe's bytes and reads the answer.
/// So a probe takes the path a connection takes, and never kfwd's own listener.
struct HealthProber: Sendable {
    let probe: ProbeSpec
    let interval: Duration
    let health: PodHealth
    /// How long one probe may take.
    var timeout: Duration = .seconds(3)
    /// How long a `tcp` probe's stream must stand without an error from the pod's side.
    var connectWindow: Duration = .milliseconds(500)

    /// Probes the pods `picker` offers for `port` (every ready pod, passing or not) until
    /// cancelled, telling `events` when a pod starts or stops failing.
    func run(
        picker: any PodPicker, transport: any PortForwardTransport, namespace: String, port: Int, loop: any EventLoop,
        events: @escaping @Sendable (ForwardEvent) -> Void
    ) async {
        while !Task.isCancelled {
            let pods = picker.candidates(remotePort: port)
            self.health.retain(Set(pods.map(\.pod)))
            await withTaskGroup(of: (String, ProbeSpec.Verdict).self) { group in
                for choice in pods {
                    group.addTask { (choice.pod, await self.check(choice, transport: transport, namespace: namespace, loop: loop)) }
                }
                for await (pod, verdict) in group where self.health.record(pod, verdict) {
                    switch verdict {
                    case .healthy: events(.health(pod: pod, failure: nil))
                    case .failing(let reason): events(.health(pod: pod, failure: "\(self.probe) probe: \(reason)"))
                    }
                }
            }
            do { try await Task.sleep(for: self.interval) } catch { return }
        }
    }

    private enum Step: Sendable {
        case verdict(ProbeSpec.Verdict)
        case streamEnded
    }

    /// One probe of one pod.
    func check(_ choice: PodChoice, transport: any PortForwardTransport, namespace: String, loop: any EventLoop) async -> ProbeSpec.Verdict {
        let stream: any PortForwardStream
        do {
            stream = try await transport.open(namespace: namespace, pod: choice.pod, port: choice.port, on: loop)
        } catch {
            return .failing(error.message)
        }
        let ends: (local: any Channel, ours: NIOAsyncChannel<ByteBuffer, ByteBuffer>)
        do {
            ends = try await Self.socketPair(on: loop)
        } catch {
            stream.close()
            return .failing("no local socket pair for the probe: \(error)")
        }
        defer { ends.local.close(promise: nil) }
        let probe = self.probe
        let window = self.connectWindow
        let timeout = self.timeout
        do {
            // Inside executeThenClose, so that the probe's end is closed however the probe ends;
            // a cancelled probe closes the spliced end, which ends the splice.
            return try await withTaskCancellationHandler {
                try await ends.ours.executeThenClose { inbound, _ in
                    await withTaskGroup(of: Step.self) { group in
                        group.addTask {
                            do throws(PortForwardError) {
                                if case .refusedBeforeResponse(let error, _) = try await stream.splice(with: ends.local, replaying: ByteBuffer(bytes: probe.request)) {
                                    return .verdict(.failing(error.message))
                                }
                                return .streamEnded
                            } catch {
                                return .verdict(.failing(error.message))
                            }
                        }
                        group.addTask {
                            if probe == .connect {
                                try? await Task.sleep(for: window)
                                return .verdict(.healthy)
                            }
                            var answer: [UInt8] = []
                            do {
                                for try await buffer in inbound {
                                    answer.append(contentsOf: buffer.readableBytesView)
                                    if let verdict = probe.verdict(answer: answer, ended: false) { return .verdict(verdict) }
                                }
                            } catch {
                                return .verdict(.failing("the probe's connection failed: \(error)"))
                            }
                            return .verdict(probe.verdict(answer: answer, ended: true) ?? .failing("no answer"))
                        }
                        group.addTask {
                            try? await Task.sleep(for: timeout)
                            return .verdict(.failing("no answer within \(timeout)"))
                        }
                        // The splice ends only when a side closes: closing ours ends it, and so
                        // lets the group finish.
                        defer {
                            group.cancelAll()
                            ends.local.close(promise: nil)
                        }
                        while let step = await group.next() {
                            if case .verdict(let verdict) = step { return verdict }
                            // The stream ended: the reader sees the end and judges what came.
                        }
                        return .failing("no answer")
                    }
                }
            } onCancel: {
                ends.local.close(promise: nil)
            }
        } catch {
            return .failing("the probe's connection failed: \(error)")
        }
    }

    /// Two connected local sockets on `loop`: one to splice to the stream (not reading until
    /// spliced, as an accepted connection), one for the probe.
    private static func socketPair(on loop: any EventLoop) async throws -> (any Channel, NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        var descriptors: [CInt] = [-1, -1]
        #if canImport(Glibc)
        let kind = CInt(SOCK_STREAM.rawValue)
        #else
        let kind = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, kind, 0, &descriptors) == 0 else { throw IOError(errnoCode: errno, reason: "socketpair") }
        let local: any Channel
        do {
            local = try await ClientBootstrap(group: loop)
                .channelOption(.autoRead, value: false)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .withConnectedSocket(descriptors[0]).get()
        } catch {
            close(descriptors[0])
            close(descriptors[1])
            throw error
        }
        do {
            let ours = try await ClientBootstrap(group: loop).withConnectedSocket(descriptors[1]) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
            return (local, ours)
        } catch {
            local.close(promise: nil)
            close(descriptors[1])
            throw error
        }
    }
}
