/// A NetworkPolicy (`networking.k8s.io/v1`), as far as kfwd writes one: which pods it selects
/// and which directions it governs. Rules kfwd never writes are left out; a policy that lists a
/// direction with no rules for it denies all of that direction.
public struct NetworkPolicy: KubeResource, Equatable {
    public static let apiVersion = "networking.k8s.io/v1"
    public static let kind = "NetworkPolicy"
    public static let plural = "networkpolicies"
    public static let namespaced = true

    public struct LabelSelector: Codable, Sendable, Equatable {
        public var matchLabels: [String: String]?
        public init(matchLabels: [String: String]?) { self.matchLabels = matchLabels }
    }

    public struct Spec: Codable, Sendable, Equatable {
        public var podSelector: LabelSelector
        /// `Ingress`, `Egress`.
        public var policyTypes: [String]?
        public init(podSelector: LabelSelector, policyTypes: [String]?) {
            self.podSelector = podSelector
            self.policyTypes = policyTypes
        }
    }

    public var metadata: ObjectMeta
    public var spec: Spec?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }
}
