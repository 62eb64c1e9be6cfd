/// One rule of a Role or ClusterRole (`rbac.authorization.k8s.io/v1` PolicyRule), matched as
/// pkg/apis/rbac/v1/evaluation_helpers.go does: `*` matches any verb, group or resource,
/// `*/SUB` any resource's subresource SUB, an empty `resourceNames` any name, and a
/// non-resource URL ending in `*` any path it prefixes.
struct PolicyRule: Sendable, Equatable {
    var verbs: [String]
    var apiGroups: [String] = []
    var resources: [String] = []
    var resourceNames: [String] = []
    var nonResourceURLs: [String] = []

    init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [], nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    init(json: JSON) {
        let strings = { (key: String) in json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(
            verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
            resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs")
        )
    }

    var json: JSON {
        var object: [String: JSON] = ["verbs": .array(self.verbs.map { .string($0) })]
        for (key, values) in [("apiGroups", self.apiGroups), ("resources", self.resources), ("resourceNames", self.resourceNames), ("nonResourceURLs", self.nonResourceURLs)]
        where !values.isEmpty {
            object[key] = .array(values.map { .string($0) })
        }
        return .object(object)
    }

    func allows(_ attributes: RequestAttributes) -> Bool {
        guard self.verbs.contains("*") || self.verbs.contains(attributes.verb) else { return false }
        switch attributes {
        case .nonResource(_, let path):
            return self.nonResourceURLs.contains { url in
                url == "*" || url == path || (url.hasSuffix("*") && path.hasPrefix(url.dropLast()))
            }
        case .resource(_, let group, let resource, let subresource, _, let name):
            guard self.apiGroups.contains("*") || self.apiGroups.contains(group) else { return false }
            let combined = subresource.map { "\(resource)/\($0)" } ?? resource
            let resourceMatches = self.resources.contains { rule in
                rule == "*" || rule == combined || (subresource.map { rule == "*/\($0)" } ?? false)
            }
            guard resourceMatches else { return false }
            return self.resourceNames.isEmpty || name.map(self.resourceNames.contains) == true
        }
    }
}
