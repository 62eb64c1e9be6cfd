import Foundation

extension KubeSim {
    /// How the kubeconfig's user authenticates.
    public enum KubeconfigUser: Sendable {
        /// The admin bearer token.
        case adminToken
        /// A client certificate for `user`, issued by the cluster CA.
        case clientCertificate(user: String, groups: [String])
        /// A user entry `name` whose `user:` map is the given YAML, as written (for tests of
        /// credential kinds the simulator does not issue itself: token files, exec plugins...).
        case entry(name: String, yaml: String)
    }

    /// A kubeconfig (YAML) for this cluster that kubectl, the Python client and KubeClient use as
    /// is: context `context`, cluster CA inline, and the chosen credentials.
    public func kubeconfig(context: String = "kubesim", namespace: String = "default", user: KubeconfigUser = .adminToken) throws -> String {
        let fields: String
        let userName: String
        switch user {
        case .adminToken:
            userName = Self.adminUser
            fields = "token: \(self.adminToken)"
        case .clientCertificate(let name, let groups):
            userName = name
            let issued = try self.certificateAuthority.issueClientCertificate(user: name, groups: groups)
            fields = """
                client-certificate-data: \(Data(issued.certificatePEM.utf8).base64EncodedString())
                client-key-data: \(Data(issued.privateKeyPEM.utf8).base64EncodedString())
                """
        case .entry(let name, let yaml):
            userName = name
            fields = yaml
        }
        let credentials = fields.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        return """
            apiVersion: v1
            kind: Config
            current-context: \(context)
            clusters:
            - name: \(context)
              cluster:
                server: \(self.url)
                certificate-authority-data: \(Data(self.certificateAuthority.certificatePEM.utf8).base64EncodedString())
            users:
            - name: \(userName)
              user:
            \(credentials)
            contexts:
            - name: \(context)
              context:
                cluster: \(context)
                user: \(userName)
                namespace: \(namespace)
            preferences: {}

            """
    }

    /// Writes ``kubeconfig(context:namespace:user:)`` to `path` with mode 0600, atomically.
    public func writeKubeconfig(to path: String, context: String = "kubesim", namespace: String = "default", user: KubeconfigUser = .adminToken) throws {
        let text = try self.kubeconfig(context: context, namespace: namespace, user: user)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}
