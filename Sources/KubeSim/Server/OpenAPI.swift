/// The OpenAPI v3 documents kubectl reads before `create -f`: it checks that each kind's PATCH
/// operation takes the `fieldValidation` query parameter and, if so, lets the server validate
/// (k8s.io/cli-runtime pkg/resource/query_param_verifier_v3.go). Without them kubectl falls back
/// to client-side validation against `/openapi/v2` and fails. These documents describe paths and
/// parameters only, not schemas.
enum OpenAPI {
    static func root() -> JSON {
        var paths: [String: JSON] = [:]
        for groupVersion in Set(ResourceType.all.map(\.groupVersion)) {
            let path = self.path(groupVersion)
            paths[path] = .object(["serverRelativeURL": .string("/openapi/v3/\(path)?hash=kubesim")])
        }
        return .object(["paths": .object(paths)])
    }

    /// `api/v1` or `apis/apps/v1` -> its document.
    static func document(_ path: String) -> JSON? {
        let types = ResourceType.all.filter { self.path($0.groupVersion) == path }
        guard !types.isEmpty else { return nil }
        var paths: [String: JSON] = [:]
        for type in types {
            let prefix = "/\(path)" + (type.namespaced ? "/namespaces/{namespace}" : "")
            let gvk: JSON = .object(["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)])
            let parameters: JSON = .array(["dryRun", "fieldManager", "fieldValidation", "force"].map { name in
                .object(["name": .string(name), "in": "query", "schema": .object(["type": "string", "uniqueItems": true])])
            })
            let operation: JSON = .object([
                "operationId": .string("patch\(type.kind)"), "parameters": parameters,
                "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk,
                "responses": .object(["200": .object(["description": "OK"])]),
            ])
            let create: JSON = .object([
                "operationId": .string("create\(type.kind)"), "parameters": parameters,
                "x-kubernetes-action": "post", "x-kubernetes-group-version-kind": gvk,
                "responses": .object(["201": .object(["description": "Created"])]),
            ])
            paths["\(prefix)/\(type.plural)"] = .object(["post": create])
            paths["\(prefix)/\(type.plural)/{name}"] = .object(["patch": operation])
        }
        return .object([
            "openapi": "3.0.0", "info": .object(["title": "Kubernetes", "version": .string(Discovery.gitVersion)]),
            "paths": .object(paths), "components": .object(["schemas": .object([:])]),
        ])
    }

    private static func path(_ groupVersion: String) -> String {
        groupVersion.contains("/") ? "apis/\(groupVersion)" : "api/\(groupVersion)"
    }
}
