/// A resource KubeSim serves: where it lives in the API and how discovery describes it.
struct ResourceType: Sendable, Hashable {
    let group: String
    let version: String
    let kind: String
    let plural: String
    let singular: String
    let namespaced: Bool
    let shortNames: [String]
    let categories: [String]

    var groupVersion: String { self.group.isEmpty ? self.version : "\(self.group)/\(self.version)" }
    var listKind: String { "\(self.kind)List" }

    static let verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    static let namespaces = ResourceType(
        group: "", version: "v1", kind: "Namespace", plural: "namespaces", singular: "namespace",
        namespaced: false, shortNames: ["ns"], categories: []
    )
    static let pods = ResourceType(
        group: "", version: "v1", kind: "Pod", plural: "pods", singular: "pod",
        namespaced: true, shortNames: ["po"], categories: ["all"]
    )
    static let services = ResourceType(
        group: "", version: "v1", kind: "Service", plural: "services", singular: "service",
        namespaced: true, shortNames: ["svc"], categories: ["all"]
    )
    static let endpointSlices = ResourceType(
        group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices",
        singular: "endpointslice", namespaced: true, shortNames: [], categories: []
    )
    static let deployments = ResourceType(
        group: "apps", version: "v1", kind: "Deployment", plural: "deployments", singular: "deployment",
        namespaced: true, shortNames: ["deploy"], categories: ["all"]
    )

    static let replicaSets = ResourceType(
        group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", singular: "replicaset",
        namespaced: true, shortNames: ["rs"], categories: ["all"]
    )

    /// Stored and served; KubeSim's network does not enforce them (as a cluster whose network
    /// plugin does not).
    static let networkPolicies = ResourceType(
        group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies",
        singular: "networkpolicy", namespaced: true, shortNames: ["netpol"], categories: []
    )

    static let all: [ResourceType] = [.namespaces, .pods, .services, .endpointSlices, .deployments, .replicaSets, .networkPolicies]

    static func find(groupVersion: String, plural: String) -> ResourceType? {
        self.all.first { $0.groupVersion == groupVersion && $0.plural == plural }
    }

    static func find(apiVersion: String, kind: String) -> ResourceType? {
        self.all.first { $0.groupVersion == apiVersion && $0.kind == kind }
    }
}
