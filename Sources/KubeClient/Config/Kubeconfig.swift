/// The kubeconfig file format (client-go tools/clientcmd/api/v1/types.go), with only the fields
/// kfwd uses; unknown fields are ignored. YAML and JSON both decode.
public struct Kubeconfig: Codable, Sendable, Hashable {
    public struct NamedCluster: Codable, Sendable, Hashable {
        public var name: String
        public var cluster: Cluster
        public init(name: String, cluster: Cluster) {
            self.name = name
            self.cluster = cluster
        }
    }

    public struct Cluster: Codable, Sendable, Hashable {
        public var server: String
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        public var tlsServerName: String?
        public var proxyURL: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
            case proxyURL = "proxy-url"
        }

        public init(server: String, certificateAuthority: String? = nil, certificateAuthorityData: String? = nil) {
            self.server = server
            self.certificateAuthority = certificateAuthority
            self.certificateAuthorityData = certificateAuthorityData
        }
    }

    public struct NamedUser: Codable, Sendable, Hashable {
        public var name: String
        public var user: User
        public init(name: String, user: User) {
            self.name = name
            self.user = user
        }
    }

    public struct User: Codable, Sendable, Hashable {
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var token: String?
        public var tokenFile: String?
        public var username: String?
        public var password: String?
        public var exec: ExecConfig?
        public var authProvider: AuthProvider?

        enum CodingKeys: String, CodingKey {
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case token, tokenFile, username, password, exec
            case authProvider = "auth-provider"
        }

        public init() {}
    }

    public struct AuthProvider: Codable, Sendable, Hashable {
        public var name: String
    }

    /// An exec credential plugin (client.authentication.k8s.io v1 / v1beta1).
    public struct ExecConfig: Codable, Sendable, Hashable {
        public struct EnvVar: Codable, Sendable, Hashable {
            public var name: String
            public var value: String
        }

        public var apiVersion: String
        public var command: String
        public var args: [String]?
        public var env: [EnvVar]?
        public var interactiveMode: String?
        public var provideClusterInfo: Bool?
        public var installHint: String?
    }

    public struct NamedContext: Codable, Sendable, Hashable {
        public var name: String
        public var context: Context
        public init(name: String, context: Context) {
            self.name = name
            self.context = context
        }
    }

    public struct Context: Codable, Sendable, Hashable {
        public var cluster: String
        public var user: String?
        public var namespace: String?
        public init(cluster: String, user: String?, namespace: String? = nil) {
            self.cluster = cluster
            self.user = user
            self.namespace = namespace
        }
    }

    public var clusters: [NamedCluster]?
    public var users: [NamedUser]?
    public var contexts: [NamedContext]?
    public var currentContext: String?

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }

    public init(clusters: [NamedCluster] = [], users: [NamedUser] = [], contexts: [NamedContext] = [], currentContext: String? = nil) {
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
        self.currentContext = currentContext
    }
}
