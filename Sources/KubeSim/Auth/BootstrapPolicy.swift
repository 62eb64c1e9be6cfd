/// The ClusterRoles and ClusterRoleBindings every cluster starts with that KubeSim's users need
/// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go): `cluster-admin` for
/// `system:masters`, discovery, public information and self reviews for every authenticated user.
enum BootstrapPolicy {
    static var objects: [JSON] {
        let roles: [(String, [PolicyRule])] = [
            ("cluster-admin", [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]), PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])]),
            ("system:discovery", [PolicyRule(verbs: ["get"], nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"])]),
            ("system:public-info-viewer", [PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"])]),
            ("system:basic-user", [
                PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"]),
            ]),
        ]
        let bindings: [(String, String)] = [
            ("cluster-admin", UserInfo.masters), ("system:discovery", UserInfo.authenticated),
            ("system:public-info-viewer", UserInfo.authenticated), ("system:basic-user", UserInfo.authenticated),
        ]
        let labels: JSON = .object(["kubernetes.io/bootstrapping": "rbac-defaults"])
        let annotations: JSON = .object(["rbac.authorization.kubernetes.io/autoupdate": "true"])
        return roles.map { name, rules in
            .object([
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": .object(["name": .string(name), "labels": labels, "annotations": annotations]),
                "rules": .array(rules.map(\.json)),
            ])
        }
            + bindings.map { name, group in
                .object([
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": .object(["name": .string(name), "labels": labels, "annotations": annotations]),
                    "roleRef": .object(["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(name)]),
                    "subjects": [.object(["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": .string(group)])],
                ])
            }
    }
}
