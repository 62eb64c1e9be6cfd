/// A pod (`v1`), with the fields that decide where a port-forward goes.
public struct Pod: KubeResource, Equatable {
    public static let apiVersion = "v1"
    public static let kind = "Pod"
    public static let plural = "pods"
    public static let namespaced = true

    public struct ContainerPort: Codable, Sendable, Equatable {
        public var name: String?
        public var containerPort: Int
        public var `protocol`: String?
        public init(name: String? = nil, containerPort: Int, protocol: String? = nil) {
            self.name = name
            self.containerPort = containerPort
            self.protocol = `protocol`
        }
    }

    public struct EnvVar: Codable, Sendable, Equatable {
        public var name: String
        public var value: String?
        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    public struct Container: Codable, Sendable, Equatable {
        public var name: String
        public var image: String?
        public var ports: [ContainerPort]?
        public var env: [EnvVar]?
        public var args: [String]?
        public var resources: ResourceRequirements?
        public var securityContext: SecurityContext?
        public var readinessProbe: Probe?
        public init(name: String, image: String?, ports: [ContainerPort]? = nil, env: [EnvVar]? = nil) {
            self.name = name
            self.image = image
            self.ports = ports
            self.env = env
        }
    }

    public struct Spec: Codable, Sendable, Equatable {
        public var containers: [Container]
        public var initContainers: [Container]?
        public var nodeName: String?
        public var terminationGracePeriodSeconds: Int64?
        public var restartPolicy: String?
        public var automountServiceAccountToken: Bool?
        public var enableServiceLinks: Bool?
        public var securityContext: PodSecurityContext?
        public init(containers: [Container]) { self.containers = containers }
    }

    public struct Condition: Codable, Sendable, Equatable {
        public var type: String
        public var status: String
        public var reason: String?
    }

    public struct ContainerStateWaiting: Codable, Sendable, Equatable {
        public var reason: String?
        public var message: String?
    }

    public struct ContainerState: Codable, Sendable, Equatable {
        public var waiting: ContainerStateWaiting?
    }

    public struct ContainerStatus: Codable, Sendable, Equatable {
        public var name: String
        public var ready: Bool
        public var restartCount: Int
        public var state: ContainerState?
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: String?
        public var conditions: [Condition]?
        public var podIP: String?
        public var startTime: String?
        public var containerStatuses: [ContainerStatus]?
    }

    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    /// Ready means the `Ready` condition is `"True"`.
    public var isReady: Bool {
        self.status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } ?? false
    }

    public var isTerminating: Bool { self.metadata.deletionTimestamp != nil }

    /// The number of the container port called `name`, in any container, as kubectl resolves
    /// `pod/NAME 8080:http` (`LookupContainerPortNumberByName`); nil when no container has it.
    public func containerPort(named name: String) -> Int? {
        for container in self.spec?.containers ?? [] {
            if let port = container.ports?.first(where: { $0.name == name }) { return port.containerPort }
        }
        return nil
    }
}
