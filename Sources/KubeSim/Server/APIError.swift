/// An API error as the apiserver reports it: an HTTP status and a `Status` body
/// (kubernetes/apimachinery pkg/api/errors/errors.go).
struct APIError: Error, Sendable {
    let code: Int
    let reason: String
    let message: String
    var details: JSON?
    var retryAfterSeconds: Int?

    var status: JSON {
        var status: JSON = .object([
            "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Failure",
            "message": .string(self.message), "reason": .string(self.reason), "code": .int(self.code),
        ])
        if let details { status["details"] = details }
        return status
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func unauthorized() -> APIError {
        APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    }

    static func notFound(_ resource: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "\(Self.qualified(resource)) \"\(name)\" not found",
            details: .object(["name": .string(name), "group": .string(resource.group), "kind": .string(resource.plural)])
        )
    }

    static func pathNotFound() -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    static func alreadyExists(_ resource: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists",
            message: "\(Self.qualified(resource)) \"\(name)\" already exists",
            details: .object(["name": .string(name), "group": .string(resource.group), "kind": .string(resource.plural)])
        )
    }

    static func conflict(_ resource: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(Self.qualified(resource)) \"\(name)\": the object has been "
                + "modified; please apply your changes to the latest version and try again",
            details: .object(["name": .string(name), "group": .string(resource.group), "kind": .string(resource.plural)])
        )
    }

    static func invalid(_ resource: ResourceType, _ name: String, field: String, _ message: String) -> APIError {
        APIError(
            code: 422, reason: "Invalid",
            message: "\(resource.kind) \"\(name)\" is invalid: \(field): \(message)",
            details: .object([
                "name": .string(name), "group": .string(resource.group), "kind": .string(resource.kind),
                "causes": .array([.object(["reason": "FieldValueInvalid", "message": .string(message), "field": .string(field)])]),
            ])
        )
    }

    static func methodNotAllowed() -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
    }

    static func unsupportedMediaType(_ type: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got \(type)")
    }

    /// In-stream and HTTP 410 for a resourceVersion older than the kept history
    /// (staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go).
    static func expired(requested: Int, oldest: Int) -> APIError {
        APIError(code: 410, reason: "Expired", message: "too old resource version: \(requested) (\(oldest))")
    }

    static func tooLargeResourceVersion(requested: Int, current: Int) -> APIError {
        APIError(
            code: 504, reason: "Timeout", message: "Too large resource version: \(requested), current: \(current)",
            details: .object([
                "causes": .array([.object(["reason": "ResourceVersionTooLarge", "message": "Too large resource version"])]),
                "retryAfterSeconds": .int(1),
            ])
        )
    }

    static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    /// Group-qualified resource as error messages name it: `pods`, `deployments.apps`.
    private static func qualified(_ resource: ResourceType) -> String {
        resource.group.isEmpty ? resource.plural : "\(resource.plural).\(resource.group)"
    }
}

extension JSON: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}
