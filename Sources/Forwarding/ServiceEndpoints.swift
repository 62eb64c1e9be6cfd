import KubeClient

/// Pods behind a Service, as kube-proxy sees them: the Service's EndpointSlices give ready,
/// serving and terminating endpoints and each port already resolved for its pods (a named
/// `targetPort` becomes a number per slice), section 5 of kubernetes-wire.md.
struct ServiceEndpoints: PodPicker {
    let name: String
    let service: Informer<Service>
    let slices: Informer<EndpointSlice>

    func candidates(remotePort: Int) -> [PodChoice] {
        guard let port = self.service.objects.first?.spec?.ports?.first(where: { $0.port == remotePort }) else { return [] }
        var choices: [PodChoice] = []
        var seen = Set<String>()
        for slice in self.slices.objects {
            // The slice's port entry named like the service port carries the resolved number.
            guard let resolved = slice.ports?.first(where: { ($0.name ?? "") == (port.name ?? "") })?.port else { continue }
            for endpoint in slice.endpoints ?? [] {
                guard endpoint.conditions?.ready ?? true, !(endpoint.conditions?.terminating ?? false),
                    endpoint.targetRef?.kind ?? "Pod" == "Pod", let pod = endpoint.targetRef?.name, seen.insert(pod).inserted
                else { continue }
                choices.append(PodChoice(pod: pod, port: resolved))
            }
        }
        return choices.sorted { $0.pod < $1.pod }
    }

    func changes() -> StoreChanges {
        StoreChanges([self.service, self.slices])
    }

    func emptyReason(remotePort: Int) -> String {
        guard let service = self.service.objects.first else { return "service \(self.name) does not exist" }
        guard service.spec?.ports?.contains(where: { $0.port == remotePort }) ?? false else {
            let ports = (service.spec?.ports ?? []).map { String($0.port) }.joined(separator: ", ")
            return "service \(self.name) has no port \(remotePort) (it has \(ports.isEmpty ? "none" : ports))"
        }
        return "svc/\(self.name) has no ready pod"
    }
}
