/// Strategic merge patch (`application/strategic-merge-patch+json`) for the built-in types KubeSim
/// serves.
///
/// Maps merge as in a JSON merge patch. Lists whose Go field carries a `patchMergeKey` are merged
/// element by element on that key; other lists are replaced. The merge keys below are those of
/// kubernetes/api core/v1/types.go and apps/v1/types.go for the fields these types have.
/// `$patch: delete` on a list element removes it; `$patch: replace` on a map replaces it.
enum StrategicMergePatch {
    private static let mergeKeys: [String: String] = [
        "containers": "name",
        "initContainers": "name",
        "ephemeralContainers": "name",
        "env": "name",
        "volumes": "name",
        "volumeMounts": "mountPath",
        "imagePullSecrets": "name",
        "conditions": "type",
        "ownerReferences": "uid",
        "tolerations": "key",
        "hostAliases": "ip",
        "topologySpreadConstraints": "topologyKey",
    ]

    static func apply(_ patch: JSON, to target: JSON) -> JSON {
        self.merge(patch, into: target, fieldName: nil)
    }

    private static func merge(_ patch: JSON, into target: JSON, fieldName: String?) -> JSON {
        switch patch {
        case .object(var patchFields):
            if patchFields.removeValue(forKey: "$patch")?.stringValue == "replace" {
                return .object(patchFields)
            }
            var result = target.objectValue ?? [:]
            for (key, value) in patchFields where !key.hasPrefix("$") {
                if value == .null {
                    result.removeValue(forKey: key)
                } else {
                    result[key] = self.merge(value, into: result[key] ?? .null, fieldName: key)
                }
            }
            return .object(result)
        case .array(let patchItems):
            guard let fieldName, let existing = target.arrayValue,
                let key = self.mergeKey(for: fieldName, items: patchItems + existing)
            else {
                return patch
            }
            return .array(self.mergeList(patchItems, into: existing, key: key))
        default:
            return patch
        }
    }

    /// Container ports merge on `containerPort`, Service ports on `port`: both are named `ports`.
    private static func mergeKey(for fieldName: String, items: [JSON]) -> String? {
        if fieldName == "ports" {
            return items.contains { $0["containerPort"] != nil } ? "containerPort" : "port"
        }
        return self.mergeKeys[fieldName]
    }

    private static func mergeList(_ patchItems: [JSON], into existing: [JSON], key: String) -> [JSON] {
        var result = existing
        for item in patchItems {
            let identity = item[key]
            let index = result.firstIndex { identity != nil && $0[key] == identity }
            if item["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
            } else if let index {
                result[index] = self.merge(item, into: result[index], fieldName: nil)
            } else {
                result.append(self.merge(item, into: .null, fieldName: nil))
            }
        }
        return result
    }
}
