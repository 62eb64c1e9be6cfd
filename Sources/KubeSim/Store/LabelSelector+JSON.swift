import KubeLabels

extension LabelSelector {
    /// A `metav1.LabelSelector` object (`matchLabels` and `matchExpressions`).
    init(object: JSON?) {
        var requirements = LabelSelector(matchLabels: object?["matchLabels"]?.stringMap ?? [:]).requirements
        for expression in object?["matchExpressions"]?.arrayValue ?? [] {
            guard let key = expression["key"]?.stringValue else { continue }
            let values = Set((expression["values"]?.arrayValue ?? []).compactMap(\.stringValue))
            switch expression["operator"]?.stringValue {
            case "In": requirements.append(.isIn(key, values))
            case "NotIn": requirements.append(.notIn(key, values))
            case "Exists": requirements.append(.exists(key))
            case "DoesNotExist": requirements.append(.doesNotExist(key))
            default: continue
            }
        }
        self.init(requirements: requirements)
    }
}

extension LabelSelector {
    /// A `labelSelector` query parameter; a malformed one is the apiserver's 400.
    init(query: String) throws(APIError) {
        do { try self.init(parsing: query) } catch { throw APIError.badRequest(error.message) }
    }
}
