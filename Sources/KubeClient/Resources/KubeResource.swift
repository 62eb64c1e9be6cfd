/// A Kubernetes object type KubeClient reads and writes: where its collection lives, and the
/// metadata every object has. The types carry only the fields kfwd uses; unknown fields are
/// ignored when decoding.
public protocol KubeResource: Codable, Sendable {
    /// `v1`, `apps/v1`, `discovery.k8s.io/v1`.
    static var apiVersion: String { get }
    static var kind: String { get }
    /// The collection name in URLs: `pods`, `endpointslices`.
    static var plural: String { get }
    static var namespaced: Bool { get }
    var metadata: ObjectMeta { get set }
}

extension KubeResource {
    static func collectionPath(namespace: String?) -> String {
        let prefix = Self.apiVersion.contains("/") ? "/apis/\(Self.apiVersion)" : "/api/\(Self.apiVersion)"
        if Self.namespaced, let namespace { return "\(prefix)/namespaces/\(namespace)/\(Self.plural)" }
        return "\(prefix)/\(Self.plural)"
    }
}

/// `metadata` of every object.
public struct ObjectMeta: Codable, Sendable, Equatable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int64?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?

    public init(name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}

public struct OwnerReference: Codable, Sendable, Equatable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
    }
}

/// `metadata` of a list.
public struct ListMeta: Codable, Sendable {
    public var resourceVersion: String?
    public var `continue`: String?
}

/// A page of a list.
public struct ResourceList<Item: KubeResource>: Codable, Sendable {
    public var metadata: ListMeta
    public var items: [Item]
}

/// A port given as a number or as a container port name (`targetPort`).
public enum IntOrString: Codable, Sendable, Hashable {
    case int(Int)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }
}
