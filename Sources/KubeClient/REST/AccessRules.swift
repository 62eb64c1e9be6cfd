import Foundation

/// The rules a SelfSubjectRulesReview lists for the user in a namespace (what
/// `kubectl auth can-i --list` prints): one request answers every check the rules grant.
/// `incomplete` says the server's authorizers could not list everything (a webhook authorizer,
/// as on GKE): a check the rules do not grant must then be asked on its own.
public struct AccessRules: Sendable, Equatable {
    public struct Rule: Sendable, Equatable, Codable {
        public var verbs: [String]
        public var apiGroups: [String]?
        public var resources: [String]?
        public var resourceNames: [String]?

        /// As the apiserver's RBAC matches a rule (rbac/v1 evaluation_helpers.go): `*` for any
        /// verb, group or resource, `*/SUB` for any resource's subresource SUB; a rule naming
        /// resources grants only those names, which a check for the whole kind is not.
        func grants(_ check: AccessCheck) -> Bool {
            guard self.verbs.contains("*") || self.verbs.contains(check.verb) else { return false }
            let groups = self.apiGroups ?? []
            guard groups.contains("*") || groups.contains(check.group) else { return false }
            let combined = check.subresource.map { "\(check.resource)/\($0)" } ?? check.resource
            let resources = self.resources ?? []
            let anySub = check.subresource.map { "*/\($0)" }
            guard resources.contains(where: { $0 == "*" || $0 == combined || $0 == anySub }) else { return false }
            return (self.resourceNames ?? []).isEmpty
        }
    }

    public var rules: [Rule]
    public var incomplete: Bool

    public init(rules: [Rule], incomplete: Bool) {
        self.rules = rules
        self.incomplete = incomplete
    }

    /// Whether the rules grant `check`.
    public func grant(_ check: AccessCheck) -> Bool {
        self.rules.contains { $0.grants(check) }
    }
}

extension KubeClient {
    private struct RulesReview: Codable {
        struct Spec: Codable { var namespace: String }

        struct Status: Codable {
            var resourceRules: [AccessRules.Rule]?
            var incomplete: Bool?
        }

        var apiVersion = "authorization.k8s.io/v1"
        var kind = "SelfSubjectRulesReview"
        var spec: Spec
        var status: Status?
    }

    /// The user's rules in `namespace`, from a SelfSubjectRulesReview.
    public func accessRules(namespace: String) async throws(KubeError) -> AccessRules {
        let body: Data
        do { body = try JSONEncoder().encode(RulesReview(spec: .init(namespace: namespace))) } catch {
            throw KubeError.decoding("cannot encode a rules review: \(error)")
        }
        let answer = try self.decode(
            RulesReview.self, try await self.send(.POST, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", body: body, deadline: .seconds(5))
        )
        return AccessRules(rules: answer.status?.resourceRules ?? [], incomplete: answer.status?.incomplete ?? true)
    }
}
