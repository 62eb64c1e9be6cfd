/// A Service (`v1`).
public struct Service: KubeResource, Equatable {
    public static let apiVersion = "v1"
    public static let kind = "Service"
    public static let plural = "services"
    public static let namespaced = true

    public struct Port: Codable, Sendable, Equatable {
        public var name: String?
        public var `protocol`: String?
        public var port: Int
        public var targetPort: IntOrString?
        public init(name: String? = nil, port: Int, targetPort: IntOrString? = nil, protocol: String? = nil) {
            self.name = name
            self.port = port
            self.targetPort = targetPort
            self.protocol = `protocol`
        }
    }

    public struct Spec: Codable, Sendable, Equatable {
        public var selector: [String: String]?
        public var ports: [Port]?
        public var clusterIP: String?
        public var type: String?
        public var sessionAffinity: String?
        public var publishNotReadyAddresses: Bool?
        public init(selector: [String: String]?, ports: [Port]) {
            self.selector = selector
            self.ports = ports
        }
    }

    public var metadata: ObjectMeta
    public var spec: Spec?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// An EndpointSlice (`discovery.k8s.io/v1`). Note: no `spec`; nil conditions mean ready/serving.
public struct EndpointSlice: KubeResource, Equatable {
    public static let apiVersion = "discovery.k8s.io/v1"
    public static let kind = "EndpointSlice"
    public static let plural = "endpointslices"
    public static let namespaced = true

    public struct Conditions: Codable, Sendable, Equatable {
        public var ready: Bool?
        public var serving: Bool?
        public var terminating: Bool?
    }

    public struct ObjectReference: Codable, Sendable, Equatable {
        public var kind: String?
        public var namespace: String?
        public var name: String?
        public var uid: String?
    }

    public struct Endpoint: Codable, Sendable, Equatable {
        public var addresses: [String]
        public var conditions: Conditions?
        public var targetRef: ObjectReference?
        public var nodeName: String?
    }

    public struct Port: Codable, Sendable, Equatable {
        public var name: String?
        public var `protocol`: String?
        public var port: Int?
    }

    public var metadata: ObjectMeta
    public var addressType: String?
    public var endpoints: [Endpoint]?
    public var ports: [Port]?
}

/// A Namespace (`v1`, cluster-scoped).
public struct Namespace: KubeResource, Equatable {
    public static let apiVersion = "v1"
    public static let kind = "Namespace"
    public static let plural = "namespaces"
    public static let namespaced = false

    public struct Status: Codable, Sendable, Equatable {
        public var phase: String?
    }

    public var metadata: ObjectMeta
    public var status: Status?

    public init(name: String) { self.metadata = ObjectMeta(name: name) }
}
