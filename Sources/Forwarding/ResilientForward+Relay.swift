import KubeClient
import NIOCore
import Synchronization

extension ResilientForward {
    /// A forward through kfwd's relay. With a ``kubeconfigSource`` it follows the kubeconfig:
    /// when the context it resolves to changes and can be used (rotated credentials, a new CA,
    /// a switch), it runs again with the new one: a relay leased in the new context, the same
    /// ports bound again. Its open connections and UDP flows end with the old relay (a stream cannot
    /// move between relay pods); without this, a forward whose credentials were rotated kept
    /// the old ones and failed every new connection.
    func runRelay(_ relays: RelayPods, group: any EventLoopGroup, events: @escaping @Sendable (ForwardEvent) -> Void) async throws(ForwardError) {
        guard let source = self.kubeconfigSource else {
            try await RelayForward(forward: self, relays: relays, udp: self.udp).run(group: group, events: events)
            return
        }
        enum Ended: Sendable {
            case failed(ForwardError)
            case switched(KubeContext)
            case stopped
        }
        let follower = ContextFollower(source: source, initial: self.context)
        // The ports the first run picked for `:REMOTE` pairs: a run again binds the same ones.
        let picked = Mutex<[RemotePort: Int]>([:])
        let events: @Sendable (ForwardEvent) -> Void = { event in
            if case .listening(_, let local, let remote) = event { picked.withLock { $0[remote] = $0[remote] ?? local } }
            events(event)
        }
        let failure = await withTaskGroup(of: Void.self) { follows in
            follows.addTask { await follower.run(events: events) }
            var forward = self
            var failure: ForwardError?
            runs: while !Task.isCancelled {
                let current = forward
                let ended = await withTaskGroup(of: Ended.self) { run in
                    run.addTask {
                        do throws(ForwardError) {
                            try await RelayForward(forward: current, relays: relays, udp: current.udp).run(group: group, events: events)
                            return .stopped
                        } catch {
                            return .failed(error)
                        }
                    }
                    run.addTask {
                        guard let next = await current.nextUsableContext(after: current.context, follower: follower, events: events) else { return .stopped }
                        return .switched(next)
                    }
                    let first = await run.next() ?? .stopped
                    run.cancelAll()
                    return first
                }
                switch ended {
                case .failed(let error):
                    failure = error
                    break runs
                case .stopped:
                    break runs
                case .switched(let context):
                    forward.namespace = forward.namespace(in: context)
                    forward.context = context
                    let ports = picked.withLock { $0 }
                    forward.mappings = forward.mappings.map { mapping in
                        guard mapping.local == 0, let port = ports[mapping.remote] else { return mapping }
                        return PortMapping(local: port, remote: mapping.remote)
                    }
                    events(Self.followed(context, namespace: forward.namespace))
                }
            }
            follows.cancelAll()
            return failure
        }
        if let failure { throw failure }
    }
}
