import KubeClient
import KubeLabels

/// A Service's pods found as the EndpointSlice controller finds them, for a user who may not
/// read EndpointSlices (kubectl's own rights: get services, list pods): the ready,
/// non-terminating pods its selector matches, the Service port's `targetPort` resolved in each
/// pod (a number as it is, a name through the pod's container ports), as
/// `LookupContainerPortNumberByServicePort` does for kubectl.
struct ServicePods: PodPicker {
    let name: String
    let namespace: String
    let services: Informer<Service>
    let pods: Informer<Pod>

    private var service: Service? { self.services.object(namespace: self.namespace, name: self.name) }

    /// The pods the Service selects; none for a Service without a selector (its endpoints are
    /// managed by hand, and only its EndpointSlices say where they are).
    private func selected(_ service: Service) -> [Pod] {
        guard let labels = service.spec?.selector, !labels.isEmpty else { return [] }
        let selector = LabelSelector(matchLabels: labels)
        return self.pods.objects { $0.metadata.namespace == self.namespace && selector.matches($0.metadata.labels ?? [:]) }
    }

    func candidates(remotePort: RemotePort) -> [PodChoice] {
        guard let service = self.service else { return [] }
        let servicePort = ServiceEndpoints.port(remotePort, of: service)
        return self.selected(service)
            .filter { $0.isReady && !$0.isTerminating }
            .compactMap { pod in
                let port: Int?
                switch servicePort?.targetPort {
                case .int(let number)?: port = number
                case .string(let portName)?: port = pod.containerPort(named: portName)
                case nil: port = servicePort?.port ?? remotePort.number
                }
                guard let name = pod.metadata.name, let port else { return nil }
                return PodChoice(pod: name, port: port)
            }
    }

    var sticky: Bool { self.service?.spec?.sessionAffinity == "ClientIP" }

    var apiError: KubeError? { self.services.lastError ?? self.pods.lastError }

    var informers: [any TickSource] { [self.services, self.pods] }

    func address(of pod: String) -> String? {
        self.pods.object(namespace: self.namespace, name: pod)?.status?.podIP
    }

    func emptyReason(remotePort: RemotePort) -> ForwardError {
        let pods = self.service.map(self.selected) ?? []
        let targetPorts = Set(pods.flatMap { $0.spec?.containers ?? [] }.flatMap { $0.ports ?? [] }.map(\.containerPort))
        if let problem = ServiceEndpoints.problem(self.service, name: self.name, namespace: self.namespace, remotePort: remotePort, targetPorts: targetPorts) {
            return problem
        }
        return ForwardError(code: .noReadyPod, "svc/\(self.name) has no ready pod (0 of \(pods.count) ready)")
    }
}
