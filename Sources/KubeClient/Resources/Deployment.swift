/// A Deployment (`apps/v1`).
public struct Deployment: KubeResource, Equatable {
    public static let apiVersion = "apps/v1"
    public static let kind = "Deployment"
    public static let plural = "deployments"
    public static let namespaced = true

    public struct LabelSelector: Codable, Sendable, Equatable {
        public var matchLabels: [String: String]?
        public init(matchLabels: [String: String]) { self.matchLabels = matchLabels }
    }

    public struct Template: Codable, Sendable, Equatable {
        public var metadata: ObjectMeta?
        public var spec: Pod.Spec
        public init(metadata: ObjectMeta?, spec: Pod.Spec) {
            self.metadata = metadata
            self.spec = spec
        }
    }

    public struct Spec: Codable, Sendable, Equatable {
        public var replicas: Int?
        public var selector: LabelSelector
        public var template: Template
        public init(replicas: Int?, selector: LabelSelector, template: Template) {
            self.replicas = replicas
            self.selector = selector
            self.template = template
        }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var observedGeneration: Int64?
        public var replicas: Int?
        public var updatedReplicas: Int?
        public var readyReplicas: Int?
        public var availableReplicas: Int?
    }

    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// The `scale` subresource (`autoscaling/v1`).
public struct Scale: Codable, Sendable, Equatable {
    public struct Spec: Codable, Sendable, Equatable { public var replicas: Int? }
    public struct Status: Codable, Sendable, Equatable {
        public var replicas: Int
        public var selector: String?
    }

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?
}
