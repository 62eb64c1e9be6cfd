import KfwdVersion
import KubeClient
import RelayProtocol

/// The pod kfwd runs its relay in, and the labels that find it again.
enum RelayPodSpec {
    static let managedByLabel = "app.kubernetes.io/managed-by"
    static let managedBy = "kfwd"
    static let componentLabel = "app.kubernetes.io/component"
    static let component = "relay"
    static let ownerLabel = "kfwd.dev/owner"
    static let hostLabel = "kfwd.dev/host"
    /// The relay's own name, which its NetworkPolicy selects.
    static let relayLabel = "kfwd.dev/relay"
    static let pidAnnotation = "kfwd.dev/pid"

    /// Selects every relay of `owner` (on any host).
    static func selector(_ owner: RelayOwner) -> String {
        "\(managedByLabel)=\(managedBy),\(componentLabel)=\(component),\(ownerLabel)=\(owner.user)"
    }

    /// A non-root pod with a read-only root filesystem, no service-account token, no
    /// capabilities and CPU and memory limits, that is never restarted in place (kfwd replaces
    /// it). The relay listens on the pod's loopback, where port-forward reaches it and no other
    /// pod does, so its readiness probe runs inside the pod; and its spec holds no secret, since
    /// anyone who may read pods reads it: kfwd claims the relay on its first presence stream.
    static func pod(name: String, owner: RelayOwner, rules: Set<RelayRule>, settings: RelaySettings) -> Pod {
        var container = Pod.Container(
            name: "relay", image: settings.image,
            ports: [Pod.ContainerPort(name: "relay", containerPort: RelaySettings.port, protocol: "TCP")],
            env: [
                Pod.EnvVar(name: "KFWD_RELAY_TARGETS", value: RelayRule.formatList(rules)),
                Pod.EnvVar(name: "KFWD_RELAY_LISTEN", value: "127.0.0.1:\(RelaySettings.port)"),
                Pod.EnvVar(name: "KFWD_RELAY_IDLE_EXIT_SECONDS", value: String(settings.idleExitSeconds)),
                Pod.EnvVar(name: "KFWD_RELAY_FLOW_IDLE_SECONDS", value: String(settings.flowIdleSeconds)),
            ]
        )
        container.resources = Pod.ResourceRequirements(
            requests: ["cpu": "10m", "memory": "16Mi"], limits: ["cpu": settings.cpuLimit, "memory": settings.memoryLimit]
        )
        container.securityContext = Pod.SecurityContext(
            runAsNonRoot: true, runAsUser: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
            capabilities: Pod.Capabilities(drop: ["ALL"])
        )
        container.readinessProbe = Pod.Probe(exec: Pod.ExecAction(command: ["/kfwd-relay", "--check"]), periodSeconds: 2, timeoutSeconds: 2)
        var spec = Pod.Spec(containers: [container])
        spec.restartPolicy = "Never"
        spec.automountServiceAccountToken = false
        spec.enableServiceLinks = false
        spec.terminationGracePeriodSeconds = 5
        spec.securityContext = Pod.PodSecurityContext(runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532)
        let metadata = ObjectMeta(
            name: name,
            labels: [
                managedByLabel: managedBy, componentLabel: component, ownerLabel: owner.user, hostLabel: owner.host, relayLabel: name,
                "app.kubernetes.io/name": "kfwd-relay", "app.kubernetes.io/version": KfwdVersion.current,
            ],
            annotations: [pidAnnotation: String(owner.pid)]
        )
        return Pod(metadata: metadata, spec: spec)
    }

    /// Denies all ingress to the relay pod (port-forward does not pass through it): a second
    /// wall around a relay that already listens on loopback only, for CNIs that enforce it.
    /// Owned by the pod, so the cluster deletes it with the pod even if kfwd cannot.
    static func policy(for pod: Pod) -> NetworkPolicy {
        let name = pod.metadata.name ?? ""
        var metadata = ObjectMeta(
            name: name,
            labels: [managedByLabel: managedBy, componentLabel: component, relayLabel: name]
        )
        if let uid = pod.metadata.uid {
            metadata.ownerReferences = [OwnerReference(apiVersion: Pod.apiVersion, kind: Pod.kind, name: name, uid: uid)]
        }
        return NetworkPolicy(
            metadata: metadata,
            spec: NetworkPolicy.Spec(podSelector: NetworkPolicy.LabelSelector(matchLabels: [relayLabel: name]), policyTypes: ["Ingress"])
        )
    }
}
