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
    /// What discovery says may be done with it.
    var verbs: [String] = Self.standardVerbs

    var groupVersion: String { self.group.isEmpty ? self.version : "\(self.group)/\(self.version)" }
    var listKind: String { "\(self.kind)List" }

    static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

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

    static let serviceAccounts = ResourceType(
        group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", singular: "serviceaccount",
        namespaced: true, shortNames: ["sa"], categories: []
    )

    static let roles = ResourceType(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", singular: "role",
        namespaced: true, shortNames: [], categories: []
    )

    static let roleBindings = ResourceType(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings", singular: "rolebinding",
        namespaced: true, shortNames: [], categories: []
    )

    static let clusterRoles = ResourceType(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles", singular: "clusterrole",
        namespaced: false, shortNames: [], categories: []
    )

    static let clusterRoleBindings = ResourceType(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", plural: "clusterrolebindings",
        singular: "clusterrolebinding", namespaced: false, shortNames: [], categories: []
    )

    /// Reviews are created and answered, never stored.
    static let selfSubjectAccessReviews = ResourceType(
        group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview", namespaced: false, shortNames: [], categories: [], verbs: ["create"]
    )

    static let selfSubjectRulesReviews = ResourceType(
        group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectRulesReview", plural: "selfsubjectrulesreviews",
        singular: "selfsubjectrulesreview", namespaced: false, shortNames: [], categories: [], verbs: ["create"]
    )

    static let all: [ResourceType] = [
        .namespaces, .pods, .services, .endpointSlices, .deployments, .replicaSets, .networkPolicies, .serviceAccounts, .roles, .roleBindings,
        .clusterRoles, .clusterRoleBindings, .selfSubjectAccessReviews, .selfSubjectRulesReviews,
    ]

    /// Whether the API answers a creation rather than storing it.
    var isReview: Bool { self == .selfSubjectAccessReviews || self == .selfSubjectRulesReviews }

    static func find(groupVersion: String, plural: String) -> ResourceType? {
        self.all.first { $0.groupVersion == groupVersion && $0.plural == plural }
    }

    static func find(apiVersion: String, kind: String) -> ResourceType? {
        self.all.first { $0.groupVersion == apiVersion && $0.kind == kind }
    }
}
