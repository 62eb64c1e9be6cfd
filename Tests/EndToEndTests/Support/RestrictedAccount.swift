import Foundation

/// A ServiceAccount `dev` in `default` bound to a Role with the given rules, applied with
/// `kubectl apply -f` as an admin would, and a kubeconfig whose user is that account with a token
/// from `kubectl create token`: a developer with exactly these rights.
struct RestrictedAccount {
    /// What `kubectl port-forward svc/NAME` needs and no more.
    static let kubectlRules = """
        - {apiGroups: [""], resources: [services], verbs: [get]}
        - {apiGroups: [""], resources: [pods], verbs: [get, list]}
        - {apiGroups: [""], resources: [pods/portforward], verbs: [create]}
        """

    let kubeconfigPath: String
    let token: String

    static func create(_ harness: SimHarness, rules: String, name: String = "dev") async throws -> RestrictedAccount {
        let manifest = """
            apiVersion: v1
            kind: ServiceAccount
            metadata: {name: \(name), namespace: default}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: \(name), namespace: default}
            rules:
            \(rules)
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: \(name), namespace: default}
            subjects: [{kind: ServiceAccount, name: \(name), namespace: default}]
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: \(name)}
            """
        let environment = ["KUBECONFIG": harness.kubeconfigPath, "HOME": harness.directory.path]
        let applied = try await runCommand("kubectl", ["apply", "-f", try harness.write("\(name)-rbac.yaml", manifest)], environment: environment)
        guard applied.succeeded else { throw KubeSimTestError("kubectl apply of the Role failed: \(applied.stderr)") }
        let created = try await runCommand("kubectl", ["create", "token", name], environment: environment)
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard created.succeeded, !token.isEmpty else { throw KubeSimTestError("kubectl create token failed: \(created.stderr)") }
        let path = try harness.write("\(name)-kubeconfig", try harness.kubeconfig(user: "token: \(token)"))
        return RestrictedAccount(kubeconfigPath: path, token: token)
    }
}
