import KubeClient

/// A picker that gives new connections only the pods passing their probe, while any does: when
/// every pod fails, connections still go to them (a wrong probe must not stop all traffic), and
/// the forward says it is degraded.
struct HealthyPodPicker: PodPicker {
    let base: any PodPicker
    let health: PodHealth

    func candidates(remotePort: RemotePort) -> [PodChoice] {
        let all = self.base.candidates(remotePort: remotePort)
        let failing = self.health.failures
        guard !failing.isEmpty else { return all }
        let passing = all.filter { failing[$0.pod] == nil }
        return passing.isEmpty ? all : passing
    }

    var informers: [any TickSource] { self.base.informers + [self.health.ticker] }
    func emptyReason(remotePort: RemotePort) -> ForwardError { self.base.emptyReason(remotePort: remotePort) }
    var sticky: Bool { self.base.sticky }
    var apiError: KubeError? { self.base.apiError }
    func address(of pod: String) -> String? { self.base.address(of: pod) }
}
