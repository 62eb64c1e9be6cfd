/// What an authorizer decides on: a verb on a resource (its API group, subresource,
/// namespace and name) or on a non-resource path, worked out from the request as the apiserver's
/// `RequestInfoFactory` does (staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go).
enum RequestAttributes: Sendable, Equatable {
    case resource(verb: String, group: String, resource: String, subresource: String?, namespace: String?, name: String?)
    case nonResource(verb: String, path: String)

    /// The attributes of `request`: a resource when its path names one KubeSim serves.
    init(_ request: APIRequest) {
        guard let path = try? ResourcePath(request.path) else {
            self = .nonResource(verb: request.method.lowercased(), path: request.path)
            return
        }
        let verb: String
        switch request.method {
        case "GET", "HEAD":
            // A watch of one object is still a watch; a GET of a collection is a list.
            verb = request.isWatch ? "watch" : (path.name == nil ? "list" : "get")
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = path.name == nil ? "deletecollection" : "delete"
        default: verb = request.method.lowercased()
        }
        self = .resource(
            verb: verb, group: path.resource.group, resource: path.resource.plural, subresource: path.subresource,
            namespace: path.resource.namespaced ? path.namespace : nil, name: path.name
        )
    }

    var verb: String {
        switch self {
        case .resource(let verb, _, _, _, _, _), .nonResource(let verb, _): verb
        }
    }

    var namespace: String? {
        if case .resource(_, _, _, _, let namespace, _) = self { return namespace }
        return nil
    }

    /// The apiserver's words for a refusal (responsewriters `forbiddenMessage` and
    /// apimachinery `NewForbidden`): `pods "web" is forbidden: User "dev" cannot get resource
    /// "pods" in API group "" in the namespace "shop"`.
    func forbidden(user: String) -> APIError {
        switch self {
        case .nonResource(let verb, let path):
            return APIError(code: 403, reason: "Forbidden", message: "forbidden: User \"\(user)\" cannot \(verb) path \"\(path)\"", details: .object([:]))
        case .resource(let verb, let group, let resource, let subresource, let namespace, let name):
            let combined = subresource.map { "\(resource)/\($0)" } ?? resource
            let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
            let why = "User \"\(user)\" cannot \(verb) resource \"\(combined)\" in API group \"\(group)\" \(scope)"
            let qualified = group.isEmpty ? resource : "\(resource).\(group)"
            let subject = name.map { "\(qualified) \"\($0)\"" } ?? qualified
            var details: [String: JSON] = ["group": .string(group), "kind": .string(resource)]
            if let name { details["name"] = .string(name) }
            return APIError(code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(why)", details: .object(details))
        }
    }
}
