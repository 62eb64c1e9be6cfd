import KubeClient
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks, at an interval and in parallel, the pods forwards send new connections to, through
/// the tunnel: a port-forward stream to the pod's port (the kubelet dials it), spliced to one
/// end of a socket pair whose other end sends the probe's bytes and reads the answer. So a probe
/// takes the path a connection takes, and never kfwd's own listener.
///
/// One prober serves every forward that probes the same port of the same namespace of a
/// cluster the same way (``Key``; shared through ``KubeClientCache/withShared(_:make:run:_:)``):
/// twenty forwards to a Service probe each of its pods once per interval, not twenty times.
final class HealthProber: Sendable {
    struct Key: Hashable, Sendable {
        let client: ObjectIdentifier
        let namespace: String
        let port: RemotePort
        let probe: ProbeSpec
        let interval: Duration
    }

    /// A forward using the prober: its pods, the transport and loop to probe them with, and
    /// where its health events go.
    struct Subscriber: Sendable {
        let picker: any PodPicker
        let transport: any PortForwardTransport
        let loop: any EventLoop
        let events: @Sendable (ForwardEvent) -> Void
    }

    let probe: ProbeSpec
    let interval: Duration
    let namespace: String
    let port: RemotePort
    let health = PodHealth()
    /// How long one probe may take.
    let timeout: Duration = .seconds(3)
    /// How long a `tcp` probe's stream must stand without an error from the pod's side.
    let connectWindow: Duration = .milliseconds(500)
    private let subscribers = Mutex<(next: UInt64, table: [UInt64: Subscriber])>((0, [:]))

    init(key: Key) {
        self.probe = key.probe
        self.interval = key.interval
        self.namespace = key.namespace
        self.port = key.port
    }

    /// Adds a forward, telling it at once of the pods already failing.
    func subscribe(_ subscriber: Subscriber) -> UInt64 {
        for (pod, failure) in self.health.failures.sorted(by: { $0.key < $1.key }) { subscriber.events(.health(pod: pod, failure: failure)) }
        return self.subscribers.withLock { state in
            defer { state.next += 1 }
            state.table[state.next] = subscriber
            return state.next
        }
    }

    func unsubscribe(_ id: UInt64) {
        _ = self.subscribers.withLock { $0.table.removeValue(forKey: id) }
    }

    /// Probes, every interval until cancelled, each pod any subscriber may send new connections
    /// to (every ready pod, passing or not), and tells the subscribers using a pod when it
    /// starts or stops failing.
    func run() async {
        while !Task.isCancelled {
            let subscribers = self.subscribers.withLock { $0.table.sorted { $0.key < $1.key }.map(\.value) }
            if let first = subscribers.first {
                var users: [String: [Subscriber]] = [:]
                var choices: [String: PodChoice] = [:]
                for subscriber in subscribers {
                    for choice in subscriber.picker.candidates(remotePort: self.port) {
                        users[choice.pod, default: []].append(subscriber)
                        choices[choice.pod] = choices[choice.pod] ?? choice
                    }
                }
                self.health.retain(Set(choices.keys))
                await withTaskGroup(of: (String, ProbeSpec.Verdict).self) { group in
                    for choice in choices.values {
                        group.addTask { (choice.pod, await self.check(choice, transport: first.transport, namespace: self.namespace, loop: first.loop)) }
                    }
                    for await (pod, verdict) in group {
                        let said: ProbeSpec.Verdict = if case .failing(let reason) = verdict { .failing("\(self.probe) probe: \(reason)") } else { .healthy }
                        guard self.health.record(pod, said) else { continue }
                        let failure: String? = if case .failing(let reason) = said { reason } else { nil }
                        for subscriber in users[pod] ?? [] { subscriber.events(.health(pod: pod, failure: failure)) }
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
