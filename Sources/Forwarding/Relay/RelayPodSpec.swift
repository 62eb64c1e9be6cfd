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
    static let pidAnnotation = "kfwd.dev/pid"

    /// Selects every relay of `owner` (on any host).
    static func selector(_ owner: RelayOwner) -> String {
        "\(managedByLabel)=\(managedBy),\(componentLabel)=\(component),\(ownerLabel)=\(owner.user)"
    }

    /// A non-root pod with a read-only root filesystem, no service-account token, no
    /// capabilities and CPU and memory limits, that is never restarted in place (kfwd replaces
    /// it) and is ready once its port accepts connections.
    static func pod(name: String, owner: RelayOwner, secret: String, rules: Set<RelayRule>, settings: RelaySettings) -> Pod {
        var container = Pod.Container(
            name: "relay", image: settings.image,
            ports: [Pod.ContainerPort(name: "relay", containerPort: RelaySettings.port, protocol: "TCP")],
            env: [
                Pod.EnvVar(name: "KFWD_RELAY_SECRET", value: secret),
                Pod.EnvVar(name: "KFWD_RELAY_TARGETS", value: RelayRule.formatList(rules)),
                Pod.EnvVar(name: "KFWD_RELAY_LISTEN", value: "0.0.0.0:\(RelaySettings.port)"),
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
        container.readinessProbe = Pod.Probe(tcpSocket: Pod.TCPSocketAction(port: RelaySettings.port), periodSeconds: 1)
        var spec = Pod.Spec(containers: [container])
        spec.restartPolicy = "Never"
        spec.automountServiceAccountToken = false
        spec.enableServiceLinks = false
        spec.terminationGracePeriodSeconds = 5
        spec.securityContext = Pod.PodSecurityContext(runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532)
        let metadata = ObjectMeta(
            name: name,
            labels: [
                managedByLabel: managedBy, componentLabel: component, ownerLabel: owner.user, hostLabel: owner.host,
                "app.kubernetes.io/name": "kfwd-relay", "app.kubernetes.io/version": RelaySettings.kfwdVersion,
            ],
            annotations: [pidAnnotation: String(owner.pid)]
        )
        return Pod(metadata: metadata, spec: spec)
    }
}
