import ChannelGlue
import KubeClient
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// `kubectl port-forward pod/NAME` done right: every local port is bound before anything is
/// dialed, each accepted connection gets its own stream, and a failed stream fails only its
/// own connection.
public struct PodForward: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let pod: String
    public let mappings: [PortMapping]
    public let addresses: ListenAddresses
    /// The transport and namespace new connections use; a forward that follows its kubeconfig
    /// swaps them (``ResilientForward`` does), open connections keeping theirs.
    let route: Route
    /// Counts the bytes of every local connection.
    public var traffic: TrafficCounter?

    /// Where new connections of a ``PodForward`` go.
    final class Route: Sendable {
        private let state: Mutex<(transport: any PortForwardTransport, namespace: String)>

        init(transport: any PortForwardTransport, namespace: String) {
            self.state = Mutex((transport, namespace))
        }

        var value: (transport: any PortForwardTransport, namespace: String) { self.state.withLock { $0 } }

        /// Swaps the route; the old transport lets go of its sessions once their streams end.
        func set(transport: any PortForwardTransport, namespace: String) {
            let old = self.state.withLock { state in
                defer { state = (transport, namespace) }
                return state.transport
            }
            old.shutdown()
        }
    }

    public init(
        client: KubeClient, transport: any PortForwardTransport, namespace: String, pod: String, mappings: [PortMapping],
        addresses: ListenAddresses = .localhost
    ) {
        self.client = client
        self.route = Route(transport: transport, namespace: namespace)
        self.namespace = namespace
        self.pod = pod
        self.mappings = mappings
        self.addresses = addresses
    }

    /// Checks the pod, binds every local port, then forwards until the task is cancelled.
    /// - Throws: ``ForwardError`` when the pod is missing or not running, or a port cannot be bound.
    public func run(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, events: @escaping @Sendable (ForwardEvent) -> Void) async throws(ForwardError) {
        let ports = try Self.numbers(of: self.mappings, in: try await self.checkPod())
        // Every connection of the forward on one event loop: a multiplexing transport's session
        // to the pod lives there too, so bytes never change threads.
        // A multiplexing transport opens each connection's streams and joins them to it as it is
        // accepted, on its event loop, when the session is up: the connection is then served
        // there from start to end, without a task.
        let listeners = try await ListenerSet.bind(
            self.mappings, addresses: self.addresses, group: SessionLoop.loop(for: "\(self.namespace)/pod/\(self.pod)", in: group), traffic: self.traffic,
            accepted: { [route = self.route, pod = self.pod] local, connections in
                let current = route.value
                let mapping = connections.mapping(of: local)
                guard let port = ports[mapping.remote] else { return false }
                var machine = ConnectionMachine(policy: .onePod)
                machine.chose(PodChoice(pod: pod, port: port), route: nil)
                guard let ended = current.transport.openNow(namespace: current.namespace, pod: pod, port: port, joining: local) else {
                    return false
                }
                machine.joined()
                _ = machine.count()
                connections.report(.connection(local: mapping.local, remote: mapping.remote), on: local.eventLoop)
                let joined = machine
                ended.whenComplete { result in
                    var machine = joined
                    let next =
                        switch result {
                        case .success(let outcome): machine.ended(outcome)
                        case .failure(let failure): machine.broke(PortForwardError.from(failure))
                        }
                    guard case .fail(let error) = next else { return }
                    local.close(promise: nil)
                    connections.report(.connectionFailed(local: mapping.local, remote: mapping.remote, error), on: local.eventLoop)
                }
                return true
            }
        )
        listeners.announce(events)
        events(.ready(pods: [self.pod]))
        await listeners.serve(events: events) { local, mapping, _ in await self.serve(local, mapping: mapping, port: ports[mapping.remote], events: events) }
        self.route.value.transport.shutdown()
    }

    /// kubectl's checks before it listens (pkg/cmd/portforward/portforward.go): the pod exists
    /// and is running.
    private func checkPod() async throws(ForwardError) -> Pod {
        let pod: Pod
        do {
            pod = try await self.client.get(Pod.self, self.pod, namespace: self.namespace)
        } catch {
            if error.isNotFound {
                throw ForwardError(
                    code: .podMissing, "pod \(self.pod) not found in namespace \(self.namespace) (context '\(self.client.context.name)')",
                    fix: "check the name with `kubectl get pods -n \(self.namespace)`"
                )
            }
            throw ForwardError(error)
        }
        let phase = pod.status?.phase ?? "Unknown"
        guard phase == "Running" else {
            throw ForwardError(
                code: .noReadyPod, "pod \(self.pod) in namespace \(self.namespace) is not running (phase \(phase))",
                fix: "wait until it runs, or forward to another pod"
            )
        }
        return pod
    }

    /// The pod's number for each remote port, a name looked up in its containers as kubectl
    /// does (`convertPodNamedPortToNumber`), once: the pod's spec does not change.
    private static func numbers(of mappings: [PortMapping], in pod: Pod) throws(ForwardError) -> [RemotePort: Int] {
        var numbers: [RemotePort: Int] = [:]
        for mapping in mappings {
            switch mapping.remote {
            case .number(let number):
                numbers[mapping.remote] = number
            case .name(let name):
                guard let number = pod.containerPort(named: name) else {
                    let named = (pod.spec?.containers ?? []).flatMap { $0.ports ?? [] }.compactMap(\.name)
                    throw ForwardError(
                        code: .portMissing, "pod \(pod.metadata.name ?? "") has no container port named \(name) (it has \(named.isEmpty ? "none" : named.joined(separator: ", ")))",
                        fix: "give the port's number, or one of its names"
                    )
                }
                numbers[mapping.remote] = number
            }
        }
        return numbers
    }

    /// One local connection not joined at accept: its own stream, opened on its event loop,
    /// spliced until either end closes; its ``ConnectionMachine`` (one pod: any refusal fails
    /// it) says what each end means. Cancellation (Ctrl-C) closes both.
    private func serve(_ local: any Channel, mapping: PortMapping, port: Int?, events: @escaping @Sendable (ForwardEvent) -> Void) async {
        var machine = ConnectionMachine(policy: .onePod)
        if machine.count() { events(.connection(local: mapping.local, remote: mapping.remote)) }
        guard let port else {
            local.close(promise: nil)
            events(.connectionFailed(local: mapping.local, remote: mapping.remote, ForwardError(code: .portMissing, "pod \(self.pod) has no port \(mapping.remote)")))
            return
        }
        // Closing the local connection is enough: the glue closes the stream with it, and a
        // stream opened after that finds its partner closed and closes itself.
        await withTaskCancellationHandler {
            let route = self.route.value
            machine.chose(PodChoice(pod: self.pod, port: port), route: nil)
            let next: ConnectionMachine.Action
            do throws(PortForwardError) {
                let stream = try await route.transport.open(namespace: route.namespace, pod: self.pod, port: port, on: local.eventLoop)
                machine.joined()
                do throws(PortForwardError) {
                    next = machine.ended(try await stream.splice(with: local, replaying: ByteBuffer()))
                } catch {
                    next = machine.broke(error)
                }
            } catch {
                next = machine.openFailed(error)
            }
            guard case .fail(let error) = next else { return }
            local.close(promise: nil)
            events(.connectionFailed(local: mapping.local, remote: mapping.remote, error))
        } onCancel: {
            local.close(promise: nil)
        }
    }
}
