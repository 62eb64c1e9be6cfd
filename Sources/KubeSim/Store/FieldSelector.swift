/// A parsed `fieldSelector`. Every resource supports `metadata.name` and `metadata.namespace`;
/// pods add `spec.nodeName`, `status.phase` and `status.podIP` (kubernetes/kubernetes
/// pkg/registry/core/pod/strategy.go `ToSelectableFields`), namespaces `status.phase`.
struct FieldSelector: Sendable {
    private var requirements: [(field: String, value: String, equal: Bool)]

    static let everything = FieldSelector(requirements: [])

    private init(requirements: [(field: String, value: String, equal: Bool)]) {
        self.requirements = requirements
    }

    init(parsing text: String, resource: ResourceType) throws(APIError) {
        var requirements: [(field: String, value: String, equal: Bool)] = []
        for term in text.split(separator: ",") {
            let term = String(term)
            let equal = !term.contains("!=")
            let parts = term.components(separatedBy: equal ? (term.contains("==") ? "==" : "=") : "!=")
            guard parts.count == 2 else {
                throw APIError.badRequest("invalid selector: '\(text)'; can't understand '\(term)'")
            }
            let field = parts[0].trimmingCharacters(in: .whitespaces)
            guard Self.supportedFields(resource).contains(field) else {
                throw APIError.badRequest(
                    "field label not supported: \(field)"
                )
            }
            requirements.append((field, parts[1].trimmingCharacters(in: .whitespaces), equal))
        }
        self.requirements = requirements
    }

    func matches(_ object: JSON) -> Bool {
        self.requirements.allSatisfy { requirement in
            let actual = object[path: requirement.field.split(separator: ".").map(String.init)]?.stringValue ?? ""
            return (actual == requirement.value) == requirement.equal
        }
    }

    private static func supportedFields(_ resource: ResourceType) -> Set<String> {
        var fields: Set<String> = ["metadata.name", "metadata.namespace"]
        if resource == .pods { fields.formUnion(["spec.nodeName", "status.phase", "status.podIP", "spec.restartPolicy"]) }
        if resource == .namespaces { fields.insert("status.phase") }
        if resource == .services { fields.insert("spec.clusterIP") }
        return fields
    }
}

import Foundation
