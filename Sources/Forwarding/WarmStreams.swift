import KubeClient
import NIOCore
import Signals
import Synchronization

/// Streams opened ahead of need to the pods new connections go to, one per (event loop, remote
/// port), so that a new connection that finds one skips the TLS handshake and the upgrade
/// (docs/benchmarks.md measures what that buys). Refilled after every take and pruned when the
/// pods change. The pod's runtime dials the backend as soon as a stream opens, so each warm
/// stream is an idle connection to a pod until a local connection takes it.
final class WarmStreams: Sendable {
    private struct Key: Hashable {
        let loop: ObjectIdentifier
        let port: RemotePort
    }

    private struct Warm {
        let choice: PodChoice
        let stream: any PortForwardStream
    }

    private let warm = Mutex<[Key: Warm]>([:])
    private let taken = Ticker()
    private let loops: [any EventLoop]
    private let ports: [RemotePort]

    init(loops: [any EventLoop], ports: [RemotePort]) {
        self.loops = loops
        self.ports = ports
    }

    /// A warm stream on `loop` to one of `candidates`, if there is one still open.
    func take(on loop: any EventLoop, port: RemotePort, among candidates: [PodChoice]) -> (choice: PodChoice, stream: any PortForwardStream)? {
        let warm = self.warm.withLock { $0.removeValue(forKey: Key(loop: ObjectIdentifier(loop), port: port)) }
        guard let warm else { return nil }
        self.taken.fire()
        guard warm.stream.isOpen, candidates.contains(warm.choice) else {
            warm.stream.close()
            return nil
        }
        return (warm.choice, warm.stream)
    }

    /// Keeps every slot filled until cancelled, then closes what it holds.
    func fill(picker: any PodPicker, transport: any PortForwardTransport, namespace: String, chooser: PodChooser, sticky: Bool) async {
        let _: Void? = await StoreChanges.rerun(on: picker.informers + [self.taken]) {
            // A multiplexing transport keeps sessions instead: a stream opened ahead there would
            // only make the runtime dial a connection nobody uses.
            guard !transport.multiplexes else { return nil }
            for port in self.ports {
                let candidates = picker.candidates(remotePort: port)
                for loop in self.loops {
                    let key = Key(loop: ObjectIdentifier(loop), port: port)
                    let stale = self.warm.withLock { warm -> Warm? in
                        guard let held = warm[key], !held.stream.isOpen || !candidates.contains(held.choice) else { return nil }
                        return warm.removeValue(forKey: key)
                    }
                    stale?.stream.close()
                    guard !candidates.isEmpty, self.warm.withLock({ $0[key] == nil }), !Task.isCancelled else { continue }
                    let choice = chooser.choose(from: candidates, sticky: sticky)
                    guard let stream = try? await transport.open(namespace: namespace, pod: choice.pod, port: choice.port, on: loop) else { continue }
                    self.warm.withLock { $0[key] = Warm(choice: choice, stream: stream) }
                }
            }
            return nil
        }
        let held = self.warm.withLock { warm in
            defer { warm.removeAll() }
            return Array(warm.values)
        }
        for warm in held { warm.stream.close() }
    }
}
