import KubeClient

/// Pods matching a selector (a Deployment's, or one given with `-l`): ready and not terminating.
/// The remote port is the container port.
struct SelectedPods: PodPicker {
    let description: String
    let pods: Informer<Pod>

    func candidates(remotePort: Int) -> [PodChoice] {
        self.pods.objects
            .filter { $0.isReady && $0.metadata.deletionTimestamp == nil }
            .compactMap { $0.metadata.name.map { PodChoice(pod: $0, port: remotePort) } }
    }

    func changes() -> StoreChanges {
        StoreChanges([self.pods])
    }

    func emptyReason(remotePort: Int) -> String {
        self.pods.objects.isEmpty ? "\(self.description) matches no pod" : "\(self.description) has no ready pod"
    }
}
