/// Role-based access control over the store's Roles, ClusterRoles and their bindings, as the
/// apiserver's RBAC authorizer decides (plugin/pkg/auth/authorizer/rbac/rbac.go and
/// pkg/registry/rbac/validation/rule_resolver.go): a request is allowed when a rule of a role
/// bound to the user, one of their groups or their ServiceAccount allows it: ClusterRoleBindings
/// everywhere, RoleBindings in their namespace. `system:masters` is allowed everything before
/// RBAC is asked, as the apiserver's privileged-group authorizer does.
struct RBACAuthorizer: Sendable {
    let store: ObjectStore

    enum Decision: Sendable, Equatable {
        /// Why, as the apiserver says it (`RBAC: allowed by ClusterRoleBinding "..." of ...`).
        case allowed(String)
        case denied
    }

    /// A rule together with where it comes from, for the reason of a decision.
    struct SourcedRule: Sendable {
        let rule: PolicyRule
        let source: String
    }

    func authorize(_ user: UserInfo, _ attributes: RequestAttributes) -> Decision {
        if user.groups.contains(UserInfo.masters) { return .allowed("") }
        guard let allowing = self.rules(for: user, namespace: attributes.namespace).first(where: { $0.rule.allows(attributes) }) else {
            return .denied
        }
        return .allowed("RBAC: allowed by \(allowing.source)")
    }

    /// Every rule that applies to `user` in `namespace` (cluster-wide ones only when nil).
    func rules(for user: UserInfo, namespace: String?) -> [SourcedRule] {
        var rules: [SourcedRule] = []
        for binding in self.objects(.clusterRoleBindings, namespace: nil) {
            guard let subject = Self.subject(of: binding, matching: user, bindingNamespace: nil) else { continue }
            let (kind, role) = Self.roleRef(binding)
            guard kind == "ClusterRole", let roleObject = self.store.get(ObjectKey(resource: .clusterRoles, namespace: "", name: role)) else { continue }
            let source = "ClusterRoleBinding \"\(Self.name(binding))\" of ClusterRole \"\(role)\" to \(subject)"
            rules += Self.policyRules(roleObject).map { SourcedRule(rule: $0, source: source) }
        }
        guard let namespace else { return rules }
        for binding in self.objects(.roleBindings, namespace: namespace) {
            guard let subject = Self.subject(of: binding, matching: user, bindingNamespace: namespace) else { continue }
            let (kind, role) = Self.roleRef(binding)
            let key =
                kind == "ClusterRole"
                ? ObjectKey(resource: .clusterRoles, namespace: "", name: role) : ObjectKey(resource: .roles, namespace: namespace, name: role)
            guard ["Role", "ClusterRole"].contains(kind), let roleObject = self.store.get(key) else { continue }
            let source = "RoleBinding \"\(Self.name(binding))/\(namespace)\" of \(kind) \"\(role)\" to \(subject)"
            rules += Self.policyRules(roleObject).map { SourcedRule(rule: $0, source: source) }
        }
        return rules
    }

    private func objects(_ resource: ResourceType, namespace: String?) -> [JSON] {
        self.store.list(WatchFilter(resource: resource, namespace: namespace, labels: .everything, fields: .everything)).items
    }

    private static func name(_ object: JSON) -> String {
        object[path: ["metadata", "name"]]?.stringValue ?? ""
    }

    private static func roleRef(_ binding: JSON) -> (kind: String, name: String) {
        (binding[path: ["roleRef", "kind"]]?.stringValue ?? "", binding[path: ["roleRef", "name"]]?.stringValue ?? "")
    }

    private static func policyRules(_ role: JSON) -> [PolicyRule] {
        (role["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:))
    }

    /// The binding's subject that is `user`, described as the apiserver describes it
    /// (`User "dev"`, `ServiceAccount "dev/shop"`), or nil. A ServiceAccount subject without a
    /// namespace means the binding's own.
    private static func subject(of binding: JSON, matching user: UserInfo, bindingNamespace: String?) -> String? {
        for subject in binding["subjects"]?.arrayValue ?? [] {
            let kind = subject["kind"]?.stringValue ?? ""
            let name = subject["name"]?.stringValue ?? ""
            switch kind {
            case "User" where name == user.name:
                return "User \"\(name)\""
            case "Group" where user.groups.contains(name):
                return "Group \"\(name)\""
            case "ServiceAccount":
                guard let namespace = subject["namespace"]?.stringValue.flatMap({ $0.isEmpty ? nil : $0 }) ?? bindingNamespace,
                    UserInfo.serviceAccountName(namespace: namespace, name: name) == user.name
                else { continue }
                return "ServiceAccount \"\(name)/\(namespace)\""
            default:
                continue
            }
        }
        return nil
    }
}
