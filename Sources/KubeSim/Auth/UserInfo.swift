/// An authenticated user as the apiserver's authorizers see it (k8s.io/apiserver
/// pkg/authentication/user): a name and groups, `system:authenticated` among them.
struct UserInfo: Sendable, Hashable {
    let name: String
    let groups: [String]

    static let masters = "system:masters"
    static let authenticated = "system:authenticated"

    /// The user with `system:authenticated` added, as the apiserver's authentication filter adds
    /// it to every authenticated request.
    init(name: String, groups: [String]) {
        self.name = name
        self.groups = groups.contains(Self.authenticated) ? groups : groups + [Self.authenticated]
    }

    /// A ServiceAccount's user (pkg/serviceaccount `MakeUsername`, `MakeGroupNames`).
    static func serviceAccount(namespace: String, name: String) -> UserInfo {
        UserInfo(name: self.serviceAccountName(namespace: namespace, name: name), groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)"])
    }

    static func serviceAccountName(namespace: String, name: String) -> String {
        "system:serviceaccount:\(namespace):\(name)"
    }
}
