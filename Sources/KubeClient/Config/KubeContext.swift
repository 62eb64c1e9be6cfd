import Foundation

/// One resolved context: the cluster to talk to, the user to talk as and the default namespace,
/// with the names the kubeconfig gave them for error messages.
public struct KubeContext: Sendable, Hashable {
    public let name: String
    public let clusterName: String
    public let userName: String
    public let server: String
    public let namespace: String
    public let cluster: Kubeconfig.Cluster
    public let user: Kubeconfig.User

    /// Picks a context from a kubeconfig: `name`, else `current-context`.
    /// - Throws: ``KubeError`` naming the missing context, cluster or user and listing what exists.
    public init(_ config: Kubeconfig, context name: String? = nil) throws(KubeError) {
        guard let contextName = name ?? config.currentContext, !contextName.isEmpty else {
            throw KubeError.config("the kubeconfig has no current-context: pass --context (available: \(Self.names(config.contexts?.map(\.name))))")
        }
        guard let context = config.contexts?.first(where: { $0.name == contextName })?.context else {
            throw KubeError.config("context '\(contextName)' is not in the kubeconfig (available: \(Self.names(config.contexts?.map(\.name))))")
        }
        guard let cluster = config.clusters?.first(where: { $0.name == context.cluster })?.cluster else {
            throw KubeError.config("context '\(contextName)' names cluster '\(context.cluster)', which is not in the kubeconfig")
        }
        let userName = context.user ?? ""
        var user = Kubeconfig.User()
        if !userName.isEmpty {
            guard let found = config.users?.first(where: { $0.name == userName })?.user else {
                throw KubeError.config("context '\(contextName)' names user '\(userName)', which is not in the kubeconfig")
            }
            user = found
        }
        guard URL(string: cluster.server)?.host != nil else {
            throw KubeError.config("cluster '\(context.cluster)' has server '\(cluster.server)', which is not a URL like https://host:6443")
        }
        if cluster.insecureSkipTLSVerify == true && (cluster.certificateAuthority != nil || cluster.certificateAuthorityData != nil) {
            throw KubeError.config(
                "cluster '\(context.cluster)': specifying a root certificates file with the insecure flag is not allowed: remove one of them"
            )
        }
        if user.token != nil && (user.username != nil || user.password != nil) {
            throw KubeError.config("user '\(userName)' has both a token and basic auth: more than one authentication method is not allowed")
        }
        if let provider = user.authProvider, user.exec == nil, user.token == nil {
            throw KubeError.config(
                "user '\(userName)' uses the auth-provider '\(provider.name)', which kfwd does not support: use an exec plugin such as gke-gcloud-auth-plugin or kubelogin"
            )
        }
        self.name = contextName
        self.clusterName = context.cluster
        self.userName = userName
        self.server = cluster.server.hasSuffix("/") ? String(cluster.server.dropLast()) : cluster.server
        self.namespace = (context.namespace ?? "").isEmpty ? "default" : context.namespace!
        self.cluster = cluster
        self.user = user
    }

    /// The context of a pod's own service account (client-go rest/config.go `InClusterConfig`).
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        root: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws(KubeError) -> KubeContext {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubeError.config("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        let server = host.contains(":") ? "https://[\(host)]:\(port)" : "https://\(host):\(port)"
        var namespace = environment["POD_NAMESPACE"] ?? ""
        if namespace.isEmpty {
            namespace = (try? String(contentsOfFile: "\(root)/namespace", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        var user = Kubeconfig.User()
        user.tokenFile = "\(root)/token"
        let config = Kubeconfig(
            clusters: [.init(name: "in-cluster", cluster: .init(server: server, certificateAuthority: "\(root)/ca.crt"))],
            users: [.init(name: "in-cluster", user: user)],
            contexts: [.init(name: "in-cluster", context: .init(cluster: "in-cluster", user: "in-cluster", namespace: namespace.isEmpty ? nil : namespace))],
            currentContext: "in-cluster"
        )
        return try KubeContext(config)
    }

    private static func names(_ names: [String]?) -> String {
        let list = names ?? []
        return list.isEmpty ? "none" : list.map { "'\($0)'" }.joined(separator: ", ")
    }
}
