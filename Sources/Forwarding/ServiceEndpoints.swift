import KubeClient

/// Pods behind a Service, as kube-proxy sees them: the Service's EndpointSlices give ready,
/// serving and terminating endpoints and each port already resolved for its pods (a named
/// `targetPort` becomes a number per slice), section 5 of kubernetes-wire.md. Both informers
/// watch the whole namespace, so every forward in it shares them.
struct ServiceEndpoints: PodPicker {
    let name: String
    let namespace: String
    let services: Informer<Service>
    let slices: Informer<EndpointSlice>

    private var service: Service? { self.services.object(namespace: self.namespace, name: self.name) }

    private var ownSlices: [EndpointSlice] {
        self.slices.objects { $0.metadata.labels?["kubernetes.io/service-name"] == self.name }
    }

    /// The remote port is the Service's port, by number or by name, as kubectl reads
    /// `svc/NAME 8080:80` and `svc/NAME 8080:http`; when the Service has no such port number
    /// but its pods serve it as a target port (kftray's `remote_port` for service workloads is
    /// the container port), that target port is used as it is.
    func candidates(remotePort: RemotePort) -> [PodChoice] {
        guard let service = self.service else { return [] }
        let servicePort = Self.port(remotePort, of: service)
        if servicePort == nil, remotePort.number == nil { return [] }
        var choices: [PodChoice] = []
        var seen = Set<String>()
        for slice in self.ownSlices {
            let resolved: Int?
            if let servicePort {
                // The slice's port entry named like the service port carries the resolved number.
                resolved = slice.ports?.first { ($0.name ?? "") == (servicePort.name ?? "") }?.port
            } else {
                resolved = slice.ports?.first { $0.port == remotePort.number }?.port
            }
            guard let resolved else { continue }
            for endpoint in slice.endpoints ?? [] {
                guard endpoint.conditions?.ready ?? true, !(endpoint.conditions?.terminating ?? false),
                    endpoint.targetRef?.kind ?? "Pod" == "Pod", let pod = endpoint.targetRef?.name, seen.insert(pod).inserted
                else { continue }
                choices.append(PodChoice(pod: pod, port: resolved))
            }
        }
        return choices.sorted { $0.pod < $1.pod }
    }

    /// Every local connection comes from the same client address, so ClientIP affinity means
    /// one pod for all of them while it stays ready.
    var sticky: Bool { self.service?.spec?.sessionAffinity == "ClientIP" }

    var apiError: KubeError? { self.services.lastError ?? self.slices.lastError }

    var informers: [any TickSource] { [self.services, self.slices] }

    func emptyReason(remotePort: RemotePort) -> ForwardError {
        let targetPorts = Set(self.ownSlices.flatMap { $0.ports ?? [] }.compactMap(\.port))
        if let problem = Self.problem(self.service, name: self.name, namespace: self.namespace, remotePort: remotePort, targetPorts: targetPorts) {
            return problem
        }
        let pods = Set(self.ownSlices.flatMap { $0.endpoints ?? [] }.compactMap { $0.targetRef?.name })
        return ForwardError(code: .noReadyPod, "svc/\(self.name) has no ready pod (0 of \(pods.count) ready)")
    }

    /// The Service port `remote` names, by number or name.
    static func port(_ remote: RemotePort, of service: Service) -> Service.Port? {
        switch remote {
        case .number(let number): service.spec?.ports?.first { $0.port == number }
        case .name(let name): service.spec?.ports?.first { $0.name == name }
        }
    }

    /// What is wrong with the Service itself, whoever finds its pods: it is missing, or it has
    /// no such port (and its pods do not serve the number as a target port either).
    static func problem(_ service: Service?, name: String, namespace: String, remotePort: RemotePort, targetPorts: Set<Int>) -> ForwardError? {
        guard let service else {
            return ForwardError(
                code: .serviceMissing, "service \(name) does not exist in namespace \(namespace)",
                fix: "check the name with `kubectl get services -n \(namespace)`; the forward starts when it exists"
            )
        }
        guard Self.port(remotePort, of: service) == nil, !(remotePort.number.map(targetPorts.contains) ?? false) else { return nil }
        let ports = service.spec?.ports ?? []
        let list = ports.map { port in port.name.map { "\(port.port) named \($0)" } ?? String(port.port) }.joined(separator: ", ")
        let what = remotePort.number == nil ? "port named \(remotePort)" : "port \(remotePort)"
        return ForwardError(code: .portMissing, "service \(name) has no \(what) (it has \(list.isEmpty ? "none" : list))")
    }
}
