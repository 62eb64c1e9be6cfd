import KubeClient
import NIOCore
import Synchronization

/// What a relay forward's connections need to reach the relay: the lease, the transport, and
/// the pod currently serving, reported to the user each time it changes.
final class RelayRoute: Sendable {
    let relays: RelayPods
    let lease: RelayPods.Lease
    let transport: any PortForwardTransport
    let namespace: String
    private let events: @Sendable (ForwardEvent) -> Void
    /// Whether the relay pod is what the forward reports as its pods (not for UDP to pods,
    /// which reports those).
    private let reportsRelay: Bool
    private let reported = Mutex<String?>(nil)

    init(
        relays: RelayPods, lease: RelayPods.Lease, transport: any PortForwardTransport, namespace: String, reportsRelay: Bool,
        events: @escaping @Sendable (ForwardEvent) -> Void
    ) {
        self.relays = relays
        self.lease = lease
        self.transport = transport
        self.namespace = namespace
        self.reportsRelay = reportsRelay
        self.events = events
    }

    /// The relay the next stream goes to (deployed and waited for when needed); give it back
    /// with ``finished(_:)`` when the stream ends.
    func endpoint() async throws(ForwardError) -> RelayPods.Endpoint {
        let endpoint = try await self.relays.endpoint(for: self.lease)
        guard self.reportsRelay else { return endpoint }
        let changed = self.reported.withLock { reported in
            defer { reported = endpoint.pod }
            return reported != endpoint.pod
        }
        if changed { self.events(.ready(pods: [endpoint.pod])) }
        return endpoint
    }

    func finished(_ endpoint: RelayPods.Endpoint) async {
        await self.relays.finished(self.lease, pod: endpoint.pod)
    }

    /// Runs `body` with the relay's endpoint, given back when `body` returns.
    func withEndpoint<T>(_ body: (RelayPods.Endpoint) async throws -> T) async throws -> T {
        let endpoint = try await self.endpoint()
        do {
            let value = try await body(endpoint)
            await self.finished(endpoint)
            return value
        } catch {
            await self.finished(endpoint)
            throw error
        }
    }

    /// Opens a stream to the relay's port.
    func open(_ endpoint: RelayPods.Endpoint, on eventLoop: any EventLoop) async throws(PortForwardError) -> any PortForwardStream {
        try await self.transport.open(namespace: self.namespace, pod: endpoint.pod, port: RelaySettings.port, on: eventLoop)
    }

    /// A stream to `endpoint` failed before the relay answered: has the relay been lost?
    func suspect(_ endpoint: RelayPods.Endpoint) async {
        await self.relays.suspect(self.lease, pod: endpoint.pod)
    }
}
