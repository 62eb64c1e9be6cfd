import Foundation

/// One forward in kftray's JSON config format (kftray-commons `config_model.rs`, fields in
/// snake_case), read as kftray writes it: every field optional, booleans that kftray reads
/// leniently also accepted as the strings "true"/"false" or null.
public struct KftrayConfig: Codable, Sendable, Equatable {
    public var id: Int64?
    public var service: String?
    public var namespace: String?
    public var localPort: Int?
    public var remotePort: Int?
    public var context: String?
    public var workloadType: String?
    public var `protocol`: String?
    public var remoteAddress: String?
    public var localAddress: String?
    public var autoLoopbackAddress: Bool?
    public var alias: String?
    public var domainEnabled: Bool?
    public var kubeconfig: String?
    public var target: String?
    public var httpLogsEnabled: Bool?
    public var httpLogsMaxFileSize: Int?
    public var httpLogsRetentionDays: Int?
    public var httpLogsAutoCleanup: Bool?
    public var exposureType: String?
    public var certManagerEnabled: Bool?
    public var certIssuer: String?
    public var certIssuerKind: String?
    public var ingressClass: String?
    public var ingressAnnotations: String?
    /// kfwd's own field (kftray has none): the port-forward transport, `auto` when absent.
    public var transport: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, service, namespace, context, `protocol`, alias, kubeconfig, target, transport
        case localPort = "local_port"
        case remotePort = "remote_port"
        case workloadType = "workload_type"
        case remoteAddress = "remote_address"
        case localAddress = "local_address"
        case autoLoopbackAddress = "auto_loopback_address"
        case domainEnabled = "domain_enabled"
        case httpLogsEnabled = "http_logs_enabled"
        case httpLogsMaxFileSize = "http_logs_max_file_size"
        case httpLogsRetentionDays = "http_logs_retention_days"
        case httpLogsAutoCleanup = "http_logs_auto_cleanup"
        case exposureType = "exposure_type"
        case certManagerEnabled = "cert_manager_enabled"
        case certIssuer = "cert_issuer"
        case certIssuerKind = "cert_issuer_kind"
        case ingressClass = "ingress_class"
        case ingressAnnotations = "ingress_annotations"
    }

    /// The field names kftray knows, and kfwd's `transport`.
    public static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))

    public init() {}

    /// The context to use; nil for the kubeconfig's current one, which kftray writes as a
    /// missing field, `@current` or the placeholder `current-context`.
    public var namedContext: String? {
        self.context.flatMap { ["", "@current", "current-context"].contains($0) ? nil : $0 }
    }

    /// The alias kftray gives an entry without one: `{workload}-{protocol}-{local_port}`.
    public var effectiveAlias: String {
        if let alias = self.alias, !alias.isEmpty { return alias }
        return "\(self.workloadType ?? "service")-\(self.protocol ?? "tcp")-\(self.localPort ?? 0)"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decodeIfPresent(Int64.self, forKey: .id)
        self.service = try container.decodeIfPresent(String.self, forKey: .service)
        self.namespace = try container.decodeIfPresent(String.self, forKey: .namespace)
        self.localPort = try container.decodeIfPresent(Int.self, forKey: .localPort)
        self.remotePort = try container.decodeIfPresent(Int.self, forKey: .remotePort)
        self.context = try container.decodeIfPresent(String.self, forKey: .context)
        self.workloadType = try container.decodeIfPresent(String.self, forKey: .workloadType)
        self.protocol = try container.decodeIfPresent(String.self, forKey: .protocol)
        self.remoteAddress = try container.decodeIfPresent(String.self, forKey: .remoteAddress)
        self.localAddress = try container.decodeIfPresent(String.self, forKey: .localAddress)
        self.autoLoopbackAddress = try Self.lenientBool(container, .autoLoopbackAddress)
        self.alias = try container.decodeIfPresent(String.self, forKey: .alias)
        self.domainEnabled = try Self.lenientBool(container, .domainEnabled)
        self.kubeconfig = try container.decodeIfPresent(String.self, forKey: .kubeconfig)
        self.target = try container.decodeIfPresent(String.self, forKey: .target)
        self.httpLogsEnabled = try Self.lenientBool(container, .httpLogsEnabled)
        self.httpLogsMaxFileSize = try container.decodeIfPresent(Int.self, forKey: .httpLogsMaxFileSize)
        self.httpLogsRetentionDays = try container.decodeIfPresent(Int.self, forKey: .httpLogsRetentionDays)
        self.httpLogsAutoCleanup = try Self.lenientBool(container, .httpLogsAutoCleanup)
        self.exposureType = try container.decodeIfPresent(String.self, forKey: .exposureType)
        self.certManagerEnabled = try Self.lenientBool(container, .certManagerEnabled)
        self.certIssuer = try container.decodeIfPresent(String.self, forKey: .certIssuer)
        self.certIssuerKind = try container.decodeIfPresent(String.self, forKey: .certIssuerKind)
        self.ingressClass = try container.decodeIfPresent(String.self, forKey: .ingressClass)
        self.ingressAnnotations = try container.decodeIfPresent(String.self, forKey: .ingressAnnotations)
        self.transport = try container.decodeIfPresent(String.self, forKey: .transport)
    }

    /// kftray's `deserialize_bool_from_anything`: a bool, "true"/"false", or null.
    private static func lenientBool(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Bool? {
        if try !container.contains(key) || container.decodeNil(forKey: key) { return nil }
        if let value = try? container.decode(Bool.self, forKey: key) { return value }
        switch try container.decode(String.self, forKey: key).lowercased() {
        case "true": return true
        case "false": return false
        case let other:
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "'\(other)' is not true or false")
        }
    }
}
