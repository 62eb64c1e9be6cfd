/// Legacy discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/G/V`), which kubectl 1.32 accepts
/// in place of aggregated discovery (Appendix A of kubernetes-wire.md).
enum Discovery {
    static let gitVersion = "v1.32.0-kubesim"

    static func version() -> JSON {
        .object([
            "major": "1", "minor": "32", "gitVersion": .string(self.gitVersion), "gitCommit": "kubesim",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0",
            "compiler": "gc", "platform": "linux/amd64",
        ])
    }

    static func coreVersions(serverAddress: String) -> JSON {
        .object([
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": .array([.object(["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)])]),
        ])
    }

    static func groups() -> JSON {
        let groups = Dictionary(grouping: ResourceType.all.filter { !$0.group.isEmpty }, by: \.group)
            .sorted { $0.key < $1.key }
            .map { group, types -> JSON in
                let version = JSON.object(["groupVersion": .string(types[0].groupVersion), "version": .string(types[0].version)])
                return .object(["name": .string(group), "versions": .array([version]), "preferredVersion": version])
            }
        return .object(["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)])
    }

    static func group(_ name: String) -> JSON? {
        guard let type = ResourceType.all.first(where: { $0.group == name && !name.isEmpty }) else { return nil }
        let version = JSON.object(["groupVersion": .string(type.groupVersion), "version": .string(type.version)])
        return .object([
            "kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": .array([version]),
            "preferredVersion": version,
        ])
    }

    static func resources(groupVersion: String) -> JSON? {
        let types = ResourceType.all.filter { $0.groupVersion == groupVersion }
        guard !types.isEmpty else { return nil }
        var resources: [JSON] = []
        for type in types {
            resources.append(.object([
                "name": .string(type.plural), "singularName": .string(type.singular),
                "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                "verbs": .array(type.verbs.map { .string($0) }),
                "shortNames": .array(type.shortNames.map { .string($0) }),
                "categories": .array(type.categories.map { .string($0) }),
            ]))
            for (sub, kind, verbs) in self.subresources(type) {
                resources.append(.object([
                    "name": .string("\(type.plural)/\(sub)"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "kind": .string(kind), "verbs": .array(verbs.map { .string($0) }),
                ]))
            }
        }
        return .object([
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion),
            "resources": .array(resources),
        ])
    }

    private static func subresources(_ type: ResourceType) -> [(String, String, [String])] {
        switch type {
        case .pods:
            [("status", "Pod", ["get", "patch", "update"]), ("portforward", "PodPortForwardOptions", ["create", "get"])]
        case .deployments:
            [("scale", "Scale", ["get", "patch", "update"]), ("status", "Deployment", ["get", "patch", "update"])]
        case .services: [("status", "Service", ["get", "patch", "update"])]
        case .namespaces: [("status", "Namespace", ["get", "patch", "update"])]
        case .serviceAccounts: [("token", "TokenRequest", ["create"])]
        default: []
        }
    }
}
