import KubeClient
import KubeLabels

/// Pods matching a selector (a Deployment's, or one given with `-l`), or one pod by name: ready
/// and not terminating.
/// The remote port is the container port, by number or by name (each pod's own number for the
/// name: pods of one Deployment may differ during a rollout). The pod informer watches the whole namespace, so
/// every forward in it shares one watch; the selector is applied here.
struct SelectedPods: PodPicker {
    enum Selection: Sendable {
        case labels(LabelSelector, description: String)
        /// The Deployment's current selector, read from its informer on every choice.
        case deployment(name: String, Informer<Deployment>)
        /// One pod, by name.
        case named(String)
    }

    let namespace: String
    let selection: Selection
    let pods: Informer<Pod>

    private var description: String {
        switch self.selection {
        case .labels(_, let description): description
        case .deployment(let name, _): "deploy/\(name)"
        case .named(let name): "pod/\(name)"
        }
    }

    private func selected() -> [Pod] {
        let selector: LabelSelector?
        switch self.selection {
        case .labels(let labels, _):
            selector = labels
        case .deployment(let name, let deployments):
            selector = deployments.object(namespace: self.namespace, name: name)?.spec.map { LabelSelector(matchLabels: $0.selector.matchLabels ?? [:]) }
        case .named(let name):
            return self.pods.object(namespace: self.namespace, name: name).map { [$0] } ?? []
        }
        guard let selector else { return [] }
        return self.pods.objects { selector.matches($0.metadata.labels ?? [:]) }
    }

    func address(of pod: String) -> String? {
        self.pods.object(namespace: self.namespace, name: pod)?.status?.podIP
    }

    func candidates(remotePort: RemotePort) -> [PodChoice] {
        self.selected()
            .filter { $0.isReady && !$0.isTerminating }
            .compactMap { pod in
                guard let name = pod.metadata.name, let port = Self.port(remotePort, of: pod) else { return nil }
                return PodChoice(pod: name, port: port)
            }
    }

    private static func port(_ remote: RemotePort, of pod: Pod) -> Int? {
        switch remote {
        case .number(let number): number
        case .name(let name): pod.containerPort(named: name)
        }
    }

    var apiError: KubeError? {
        switch self.selection {
        case .labels, .named: self.pods.lastError
        case .deployment(_, let deployments): self.pods.lastError ?? deployments.lastError
        }
    }

    var informers: [any TickSource] {
        switch self.selection {
        case .labels, .named: [self.pods]
        case .deployment(_, let deployments): [self.pods, deployments]
        }
    }

    func emptyReason(remotePort: RemotePort) -> ForwardError {
        if case .deployment(let name, let deployments) = self.selection, deployments.object(namespace: self.namespace, name: name) == nil {
            return ForwardError(
                code: .deploymentMissing, "deployment \(name) does not exist in namespace \(self.namespace)",
                fix: "check the name with `kubectl get deployments -n \(self.namespace)`"
            )
        }
        let pods = self.selected()
        if case .named(let name) = self.selection, pods.isEmpty {
            return ForwardError(code: .podMissing, "pod \(name) does not exist in namespace \(self.namespace)")
        }
        if case .name(let portName) = remotePort, !pods.isEmpty, !pods.contains(where: { Self.port(remotePort, of: $0) != nil }) {
            return ForwardError(
                code: .portMissing, "no container of \(self.description) has a port named \(portName)",
                fix: "name the port by number, or check the names with `kubectl get pods -n \(self.namespace) -o yaml`"
            )
        }
        if case .named(let name) = self.selection { return ForwardError(code: .noReadyPod, "pod \(name) is not ready") }
        guard !pods.isEmpty else { return ForwardError(code: .noReadyPod, "\(self.description) matches no pod") }
        return ForwardError(code: .noReadyPod, "\(self.description) has no ready pod (0 of \(pods.count) ready)")
    }
}
