/// kftray's checks on an imported entry (section 1.3 of kftray.md), and kfwd's own on its
/// `transport` field: each problem names the field and what it must hold.
public enum KftrayValidation {
    static let workloads = ["service", "pod", "proxy", "expose"]

    public static func problems(_ config: KftrayConfig) -> [String] {
        var problems: [String] = []
        if (config.namespace ?? "").isEmpty { problems.append("field 'namespace' is required") }
        switch config.workloadType {
        case nil, "":
            problems.append("field 'workload_type' is required: service, pod, proxy or expose")
        case "service" where (config.service ?? "").isEmpty:
            problems.append("workload_type 'service' needs the field 'service' (the Service's name)")
        case "pod" where (config.target ?? "").isEmpty:
            problems.append("workload_type 'pod' needs the field 'target' (a label selector such as app=web)")
        case "proxy" where (config.remoteAddress ?? "").isEmpty:
            problems.append("workload_type 'proxy' needs the field 'remote_address' (a host name or IP address the cluster can reach)")
        case "expose":
            if (config.alias ?? "").isEmpty { problems.append("workload_type 'expose' needs the field 'alias'") }
            if (config.localPort ?? 0) == 0 { problems.append("workload_type 'expose' needs the field 'local_port'") }
            if config.certManagerEnabled == true, (config.certIssuer ?? "").isEmpty {
                problems.append("field 'cert_issuer' is required when cert_manager_enabled is true")
            }
        case let workload? where !Self.workloads.contains(workload):
            problems.append("field 'workload_type' is '\(workload)': use service, pod, proxy or expose")
        default:
            break
        }
        if let value = config.protocol, !["tcp", "udp"].contains(value.lowercased()) {
            problems.append("field 'protocol' is '\(value)': use tcp or udp")
        }
        for (field, port) in [("local_port", config.localPort), ("remote_port", config.remotePort)] {
            if let port, !(0...65535).contains(port) { problems.append("field '\(field)' must be a port from 0 to 65535, not \(port)") }
        }
        if let size = config.httpLogsMaxFileSize, !(1...(100 << 20)).contains(size) {
            problems.append("field 'http_logs_max_file_size' must be from 1 byte to 100 MiB, not \(size)")
        }
        if let days = config.httpLogsRetentionDays, !(1...365).contains(days) {
            problems.append("field 'http_logs_retention_days' must be from 1 to 365, not \(days)")
        }
        if let transport = config.transport, !["auto", "tunnel", "spdy", "websocket"].contains(transport) {
            problems.append("field 'transport' is '\(transport)': use auto, tunnel, spdy or websocket")
        }
        return problems
    }
}
