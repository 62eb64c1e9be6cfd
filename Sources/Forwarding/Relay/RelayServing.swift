import KubeClient
import NIOCore
import RelayProtocol

/// What a relay forward serves once its ports are bound and its relay leased: the relay
/// deployed at start, local TCP connections, and UDP flows, until cancelled or the relay cannot
/// be deployed.
struct RelayServing: Sendable {
    let forward: RelayForward
    let route: RelayRoute
    let tcp: ListenerSet?
    let udp: UDPSockets?
    let flows: AsyncStream<(NIOLoopBound<UDPFlow>, PortMapping, any Channel)>
    /// Where the forward's sockets, and so its streams to the relay, live.
    let loop: any EventLoop
    let events: @Sendable (ForwardEvent) -> Void

    /// Serves streams to the target of each remote port.
    func run(target: @escaping @Sendable (PortMapping) -> RelayTarget?) async -> ForwardError? {
        await self.run(watch: nil) { mapping, _ in target(mapping) }
    }

    /// UDP to pods: each new flow goes to a ready pod (in turn), the relay is told to allow that
    /// pod's address, and the flow stays with its pod until it idles out or the pod is no
    /// longer ready (kube-proxy likewise drops the conntrack entries of a removed UDP endpoint).
    func run(pods picker: any PodPicker) async -> ForwardError? {
        let chooser = PodChooser()
        let mappings = self.forward.forward.mappings
        let relays = self.route.relays
        let lease = self.route.lease
        // The pods ready now are allowed before the relay is first deployed.
        for mapping in mappings {
            for choice in picker.candidates(remotePort: mapping.remote) {
                if let rule = Self.rule(picker, choice) { await relays.allow(rule, for: lease) }
            }
        }
        return await self.run(watch: { await self.follow(picker) }) { mapping, flow in
            let candidates = picker.candidates(remotePort: mapping.remote)
            guard !candidates.isEmpty else {
                self.events(.waiting(local: mapping.local, reason: picker.emptyReason(remotePort: mapping.remote)))
                return nil
            }
            let choice = chooser.choose(from: candidates, sticky: picker.sticky)
            guard let rule = Self.rule(picker, choice) else { return nil }
            await relays.allow(rule, for: lease)
            if let flow { try? await flow.eventLoop.submit { flow.value.pod = choice.pod }.get() }
            return rule.target
        }
    }

    private static func rule(_ picker: any PodPicker, _ choice: PodChoice) -> RelayRule? {
        guard let address = picker.address(of: choice.pod), let target = try? RelayForward.target(address, choice.port) else { return nil }
        return RelayRule(.udp, target)
    }

    /// Reports the pods in use and closes the flows of pods that left, on every change.
    private func follow(_ picker: any PodPicker) async {
        let mappings = self.forward.forward.mappings
        var reported: [String]?
        let _: Void? = await StoreChanges.rerun(on: picker.informers) {
            let pods = Set(mappings.flatMap { picker.candidates(remotePort: $0.remote).map(\.pod) })
            if pods.sorted() != reported {
                reported = pods.sorted()
                self.events(.ready(pods: pods.sorted()))
            }
            for socket in self.udp?.sockets ?? [] {
                let channel = socket.channel
                try? await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.handler(type: UDPFlowTable.self).closeFlows { pod in !pods.contains(pod) }
                }.get()
            }
            return nil
        }
    }

    private func run(
        watch: (@Sendable () async -> Void)?, target: @escaping @Sendable (PortMapping, NIOLoopBound<UDPFlow>?) async -> RelayTarget?
    ) async -> ForwardError? {
        let forward = self.forward
        let route = self.route
        let events = self.events
        return await withTaskGroup(of: ForwardError?.self) { tasks in
            // The relay is deployed at start, not on the first connection; a relay that cannot
            // be deployed (no permission, an image that cannot be pulled) fails the forward.
            // Its session is dialed then too: otherwise the first connection or datagram waits
            // for a TLS handshake and an upgrade, longer than a DNS client's first try on a
            // loaded machine.
            tasks.addTask { [loop = self.loop] in
                do {
                    try await route.withEndpoint { endpoint in
                        try? await route.transport.prepare(namespace: route.namespace, pod: endpoint.pod, on: loop)
                    }
                    return nil
                } catch {
                    return (error as? ForwardError) ?? ForwardError("\(error)")
                }
            }
            if let watch { tasks.addTask { await watch(); return nil } }
            if let tcp = self.tcp {
                tasks.addTask {
                    await tcp.serve(events: events) { local, mapping, _ in
                        guard let resolved = await target(mapping, nil) else {
                            local.close(promise: nil)
                            return
                        }
                        await forward.serve(local, mapping: mapping, target: resolved, route: route, events: events)
                    }
                    return nil
                }
            }
            if self.udp != nil {
                tasks.addTask {
                    await withDiscardingTaskGroup { flowTasks in
                        for await (flow, mapping, socket) in self.flows {
                            // The socket's own port: a mapping asking for a free port was bound to one.
                            let bound = PortMapping(local: socket.localAddress?.port ?? mapping.local, remote: mapping.remote)
                            flowTasks.addTask {
                                guard let resolved = await target(bound, flow) else {
                                    flow.eventLoop.execute { flow.value.close() }
                                    return
                                }
                                await forward.serve(flow, socket: socket, mapping: bound, target: resolved, route: route, events: events)
                            }
                        }
                    }
                    return nil
                }
            }
            for await result in tasks {
                if let result {
                    tasks.cancelAll()
                    return result
                }
            }
            return nil
        }
    }
}
