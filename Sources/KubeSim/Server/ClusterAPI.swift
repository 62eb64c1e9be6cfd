import Foundation
import KubeLabels

/// The REST semantics of the apiserver over the ``ObjectStore``: get, list, watch, create, update,
/// patch, delete, and the `scale` and `status` subresources.
struct ClusterAPI: Sendable {
    let store: ObjectStore
    let defaults: @Sendable () -> ObjectDefaults
    let serverAddress: @Sendable () -> String
    let minRequestTimeout: Duration
    let hooks: ServerHooks
    let authenticator: Authenticator
    var authorizer: RBACAuthorizer { RBACAuthorizer(store: self.store) }

    func handle(_ request: APIRequest) throws(APIError) -> APIResponse {
        try self.authorize(request)
        switch request.path {
        case "/version", "/version/": return .object(status: 200, Discovery.version())
        case "/healthz", "/livez", "/readyz": return .object(status: 200, .string("ok"))
        case "/api", "/api/": return .object(status: 200, Discovery.coreVersions(serverAddress: self.serverAddress()))
        case "/apis", "/apis/": return .object(status: 200, Discovery.groups())
        case "/openapi/v3", "/openapi/v3/": return .object(status: 200, OpenAPI.root())
        default: break
        }
        if request.path.hasPrefix("/openapi/v3/") {
            guard let document = OpenAPI.document(String(request.path.dropFirst("/openapi/v3/".count))) else {
                throw APIError.pathNotFound()
            }
            return .object(status: 200, document)
        }
        let parts = request.path.split(separator: "/").map(String.init)
        if parts.count == 2, parts[0] == "api", let list = Discovery.resources(groupVersion: parts[1]) {
            return .object(status: 200, list)
        }
        if parts.count == 2, parts[0] == "apis", let group = Discovery.group(parts[1]) {
            return .object(status: 200, group)
        }
        if parts.count == 3, parts[0] == "apis", let list = Discovery.resources(groupVersion: "\(parts[1])/\(parts[2])") {
            return .object(status: 200, list)
        }
        guard let path = try ResourcePath(request.path) else { throw APIError.pathNotFound() }
        return try self.handle(request, path)
    }

    private func handle(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> APIResponse {
        if path.resource.isReview { return try self.review(request, path) }
        switch (request.method, path.name, path.subresource) {
        case ("POST", .some(let name), "token") where path.resource == .serviceAccounts:
            return try self.tokenRequest(request, namespace: path.namespace ?? "default", serviceAccount: name)
        case ("GET", .some(let name), "portforward") where path.resource == .pods,
            ("POST", .some(let name), "portforward") where path.resource == .pods:
            return try self.portForwardNotUpgraded(request, namespace: path.namespace ?? "default", pod: name, tunnel: self.hooks.portForwardTunnel)
        // A watch on a single object is a watch on the collection narrowed to its name.
        case ("GET", _, nil) where request.isWatch: return .watch(try self.watchRequest(request, path))
        case ("GET", nil, _): return .object(status: 200, try self.list(request, path))
        case ("GET", .some(let name), let sub): return .object(status: 200, try self.get(path, name, subresource: sub))
        case ("POST", nil, _): return .object(status: 201, try self.create(request, path))
        case ("PUT", .some(let name), let sub): return .object(status: 200, try self.replace(request, path, name, subresource: sub))
        case ("PATCH", .some(let name), let sub): return .object(status: 200, try self.patch(request, path, name, subresource: sub))
        case ("DELETE", .some(let name), nil): return try self.delete(request, path, name)
        default: throw APIError.methodNotAllowed()
        }
    }

    // MARK: read

    func key(_ path: ResourcePath, _ name: String) -> ObjectKey {
        ObjectKey(resource: path.resource, namespace: path.resource.namespaced ? (path.namespace ?? "") : "", name: name)
    }

    private func get(_ path: ResourcePath, _ name: String, subresource: String?) throws(APIError) -> JSON {
        guard let object = self.store.get(self.key(path, name)) else { throw APIError.notFound(path.resource, name) }
        switch subresource {
        case nil, "status": return object
        case "scale" where path.resource == .deployments: return Self.scale(of: object)
        default: throw APIError.pathNotFound()
        }
    }

    /// What a list or watch selects: the query's selectors, and the path's name when it has one.
    private func filter(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> WatchFilter {
        let fields = [request.query["fieldSelector"], path.name.map { "metadata.name=\($0)" }]
            .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ",")
        return WatchFilter(
            resource: path.resource,
            namespace: path.resource.namespaced ? path.namespace : nil,
            labels: try LabelSelector(query: request.query["labelSelector"] ?? ""),
            fields: try FieldSelector(parsing: fields, resource: path.resource)
        )
    }

    private func list(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> JSON {
        if request.query["sendInitialEvents"] != nil {
            throw APIError.invalid(path.resource, "", field: "sendInitialEvents", "Forbidden: sendInitialEvents is forbidden for list")
        }
        let (items, resourceVersion) = self.store.list(try self.filter(request, path))
        if request.wantsTable {
            return TableConverter.table(for: path.resource, objects: items, resourceVersion: String(resourceVersion))
        }
        // Items in a list carry no kind or apiVersion (kubernetes/kubernetes#3030).
        let stripped = items.map { item -> JSON in
            var item = item
            item["kind"] = nil
            item["apiVersion"] = nil
            return item
        }
        return .object([
            "kind": .string(path.resource.listKind), "apiVersion": .string(path.resource.groupVersion),
            "metadata": .object(["resourceVersion": .string(String(resourceVersion))]), "items": .array(stripped),
        ])
    }

    private func watchRequest(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> WatchRequest {
        let sendInitialEvents = request.query["sendInitialEvents"].map { $0 == "true" || $0 == "1" } ?? false
        let match = request.query["resourceVersionMatch"] ?? ""
        if sendInitialEvents && match != "NotOlderThan" {
            throw APIError.invalid(path.resource, "", field: "resourceVersionMatch", "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
        }
        if !sendInitialEvents && !match.isEmpty {
            throw APIError.invalid(path.resource, "", field: "resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
        }
        let timeout: Duration
        if let seconds = request.query["timeoutSeconds"].flatMap(Int.init), seconds > 0 {
            timeout = .seconds(seconds)
        } else {
            // Without timeoutSeconds the apiserver picks a random value in [min, 2*min).
            let minimum = self.minRequestTimeout.components.seconds
            timeout = .seconds(Int64.random(in: minimum..<max(minimum * 2, minimum + 1)))
        }
        return WatchRequest(
            filter: try self.filter(request, path),
            resourceVersion: sendInitialEvents ? "" : request.query["resourceVersion"],
            timeout: timeout,
            bookmarks: request.query["allowWatchBookmarks"] == "true" || request.query["allowWatchBookmarks"] == "1",
            asTable: request.wantsTable,
            sendInitialEvents: sendInitialEvents
        )
    }

    // MARK: write

    private func create(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> JSON {
        var object = try request.jsonBody()
        guard object.objectValue != nil else { throw APIError.badRequest("the request body is not a JSON object") }
        if let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            ResourceType.find(apiVersion: apiVersion, kind: kind) != path.resource
        {
            throw APIError.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(path.resource.groupVersion))")
        }
        if path.resource.namespaced {
            let namespace = path.namespace ?? ""
            if let given = object[path: ["metadata", "namespace"]]?.stringValue, !given.isEmpty, given != namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            guard self.store.get(ObjectKey(resource: .namespaces, namespace: "", name: namespace)) != nil else {
                throw APIError.notFound(.namespaces, namespace)
            }
        }
        return try self.create(object: &object, path.resource, namespace: path.namespace, dryRun: request.query["dryRun"] == "All")
    }

    /// Creates an object as a POST would; controllers and manifests use this too.
    func create(object: inout JSON, _ resource: ResourceType, namespace: String?, dryRun: Bool = false) throws(APIError) -> JSON {
        if object[path: ["metadata", "name"]]?.stringValue?.isEmpty ?? true {
            guard let prefix = object[path: ["metadata", "generateName"]]?.stringValue, !prefix.isEmpty else {
                throw APIError.invalid(resource, "", field: "metadata.name", "Required value: name or generateName is required")
            }
            object[path: ["metadata", "name"]] = .string(prefix + NameSuffix.random())
        }
        let name = object[path: ["metadata", "name"]]!.stringValue!
        try Self.validateName(name, resource)
        try self.defaults().prepareForCreate(&object, resource: resource, namespace: resource.namespaced ? namespace : nil)
        if dryRun { return object }
        return try self.store.create(ObjectKey(resource: resource, namespace: resource.namespaced ? namespace ?? "" : "", name: name), object)
    }

    private func replace(_ request: APIRequest, _ path: ResourcePath, _ name: String, subresource: String?) throws(APIError) -> JSON {
        let body = try request.jsonBody()
        let expected = body[path: ["metadata", "resourceVersion"]]?.stringValue
        if subresource == "scale" {
            return try self.updateScale(path, name, expected: expected) { _ throws(APIError) in body }
        }
        return try self.store.update(self.key(path, name), expectedResourceVersion: expected) { current throws(APIError) in
            current = Self.merge(body, into: current, subresource: subresource)
        }
    }

    private func patch(_ request: APIRequest, _ path: ResourcePath, _ name: String, subresource: String?) throws(APIError) -> JSON {
        let patch = try request.jsonBody()
        let contentType = (request.header("Content-Type") ?? "").split(separator: ";").first.map(String.init) ?? ""
        let apply: (JSON, JSON) -> JSON
        switch contentType {
        case "application/merge-patch+json": apply = { JSONMergePatch.apply($1, to: $0) }
        case "application/strategic-merge-patch+json": apply = { StrategicMergePatch.apply($1, to: $0) }
        default: throw APIError.unsupportedMediaType(contentType)
        }
        if subresource == "scale" {
            guard path.resource == .deployments else { throw APIError.pathNotFound() }
            return try self.updateScale(path, name, expected: nil) { scale throws(APIError) in apply(scale, patch) }
        }
        return try self.store.update(self.key(path, name)) { current throws(APIError) in
            let patched = apply(current, patch)
            current = Self.merge(patched, into: current, subresource: subresource)
        }
    }

    /// Applies a whole-object write while keeping what the client may not change: identity,
    /// creation time, and either the status (main resource) or everything but the status
    /// (`status` subresource). A spec change bumps `metadata.generation`.
    private static func merge(_ written: JSON, into current: JSON, subresource: String?) -> JSON {
        var result: JSON
        if subresource == "status" {
            result = current
            result["status"] = written["status"]
        } else {
            result = written
            result["status"] = current["status"]
            for field in ["uid", "creationTimestamp", "namespace", "name", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
                result[path: ["metadata", field]] = current[path: ["metadata", field]]
            }
            result["kind"] = current["kind"]
            result["apiVersion"] = current["apiVersion"]
            if result["spec"] != current["spec"], let generation = current[path: ["metadata", "generation"]]?.intValue {
                result[path: ["metadata", "generation"]] = .int(generation + 1)
            }
        }
        return result
    }

    private func updateScale(_ path: ResourcePath, _ name: String, expected: String?, _ change: (JSON) throws(APIError) -> JSON) throws(APIError) -> JSON {
        let updated = try self.store.update(self.key(path, name), expectedResourceVersion: expected) { deployment throws(APIError) in
            let scale = try change(Self.scale(of: deployment))
            guard let replicas = scale[path: ["spec", "replicas"]]?.intValue, replicas >= 0 else {
                throw APIError.invalid(.deployments, name, field: "spec.replicas", "must be greater than or equal to 0")
            }
            if deployment[path: ["spec", "replicas"]]?.intValue != replicas {
                deployment[path: ["spec", "replicas"]] = .int(replicas)
                let generation = deployment[path: ["metadata", "generation"]]?.intValue ?? 1
                deployment[path: ["metadata", "generation"]] = .int(generation + 1)
            }
        }
        return Self.scale(of: updated)
    }

    /// The `autoscaling/v1` Scale view of a Deployment.
    static func scale(of deployment: JSON) -> JSON {
        var metadata = deployment["metadata"] ?? .object([:])
        metadata["labels"] = nil
        metadata["annotations"] = nil
        metadata["generation"] = nil
        return .object([
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": metadata,
            "spec": .object(["replicas": deployment[path: ["spec", "replicas"]] ?? .int(1)]),
            "status": .object([
                "replicas": deployment[path: ["status", "replicas"]] ?? .int(0),
                "selector": .string(LabelSelector(object: deployment[path: ["spec", "selector"]]).description),
            ]),
        ])
    }

    // MARK: delete

    private func delete(_ request: APIRequest, _ path: ResourcePath, _ name: String) throws(APIError) -> APIResponse {
        let options = request.body.isEmpty ? JSON.object([:]) : try request.jsonBody()
        let key = self.key(path, name)
        var grace = options["gracePeriodSeconds"]?.intValue ?? request.query["gracePeriodSeconds"].flatMap(Int.init)
        if path.resource == .namespaces {
            return .object(status: 200, try self.deleteNamespace(key))
        }
        guard let current = self.store.get(key) else { throw APIError.notFound(path.resource, name) }
        if let uid = options[path: ["preconditions", "uid"]]?.stringValue,
            current[path: ["metadata", "uid"]]?.stringValue != uid
        {
            throw APIError.conflict(path.resource, name)
        }
        if path.resource == .pods {
            grace = Self.podGracePeriod(requested: grace, pod: current)
        } else {
            grace = 0
        }
        let policy = options["propagationPolicy"]?.stringValue ?? (options["orphanDependents"]?.boolValue == true ? "Orphan" : "Background")
        let result = try self.delete(key, gracePeriod: grace ?? 0, orphan: policy == "Orphan")
        if path.resource == .pods || path.resource == .services {
            return .object(status: 200, result)
        }
        return .object(status: 200, .object([
            "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Success",
            "details": .object([
                "name": .string(name), "group": .string(path.resource.group), "kind": .string(path.resource.plural),
                "uid": result[path: ["metadata", "uid"]] ?? .null,
            ]),
        ]))
    }

    /// The pod strategy's grace period (pkg/registry/core/pod/strategy.go `CheckGracefulDelete`):
    /// the request's, else the pod's own; 0 for an unscheduled or finished pod; negative raised to 1.
    static func podGracePeriod(requested: Int?, pod: JSON) -> Int {
        var grace = requested ?? pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
        let phase = pod[path: ["status", "phase"]]?.stringValue
        if (pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty || phase == "Succeeded" || phase == "Failed" {
            grace = 0
        }
        return grace < 0 ? 1 : grace
    }

    /// Deletes now (grace 0, no finalizers) or marks the object terminating; dependents go with it
    /// unless orphaned, as the garbage collector does in the background.
    @discardableResult
    func delete(_ key: ObjectKey, gracePeriod: Int, orphan: Bool = false) throws(APIError) -> JSON {
        guard let current = self.store.get(key) else { throw APIError.notFound(key.resource, key.name) }
        let finalizers = current[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        let result: JSON
        if gracePeriod > 0 || !finalizers.isEmpty {
            result = try self.store.update(key) { object throws(APIError) in
                let existingDeadline = Timestamp.date(object[path: ["metadata", "deletionTimestamp"]]?.stringValue)
                let deadline = Date().addingTimeInterval(TimeInterval(gracePeriod))
                if let existingDeadline, existingDeadline <= deadline { return }
                object[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.string(deadline))
                object[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(gracePeriod)
            }
            return result
        }
        result = try self.store.delete(key)
        self.collectDependents(of: result, orphan: orphan)
        return result
    }

    private func collectDependents(of owner: JSON, orphan: Bool) {
        guard let uid = owner[path: ["metadata", "uid"]]?.stringValue,
            let namespace = owner[path: ["metadata", "namespace"]]?.stringValue
        else { return }
        for resource in ResourceType.all where resource.namespaced {
            let filter = WatchFilter(resource: resource, namespace: namespace, labels: .everything, fields: .everything)
            for dependent in self.store.list(filter).items {
                let owners = dependent[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
                guard owners.contains(where: { $0["uid"]?.stringValue == uid }),
                    let name = dependent[path: ["metadata", "name"]]?.stringValue
                else { continue }
                let key = ObjectKey(resource: resource, namespace: namespace, name: name)
                if orphan {
                    _ = try? self.store.update(key) { object in
                        object[path: ["metadata", "ownerReferences"]] = .array(owners.filter { $0["uid"]?.stringValue != uid })
                    }
                } else {
                    let grace = resource == .pods ? Self.podGracePeriod(requested: nil, pod: dependent) : 0
                    _ = try? self.delete(key, gracePeriod: grace)
                }
            }
        }
    }

    private func deleteNamespace(_ key: ObjectKey) throws(APIError) -> JSON {
        guard self.store.get(key) != nil else { throw APIError.notFound(.namespaces, key.name) }
        let terminating = try self.store.update(key) { namespace throws(APIError) in
            if namespace[path: ["metadata", "deletionTimestamp"]] == nil {
                namespace[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.string())
            }
            namespace[path: ["status", "phase"]] = "Terminating"
        }
        // The namespace controller empties the namespace, then removes it.
        for resource in ResourceType.all where resource.namespaced {
            let filter = WatchFilter(resource: resource, namespace: key.name, labels: .everything, fields: .everything)
            for object in self.store.list(filter).items {
                guard let name = object[path: ["metadata", "name"]]?.stringValue else { continue }
                _ = try? self.store.delete(ObjectKey(resource: resource, namespace: key.name, name: name))
            }
        }
        try self.store.delete(key)
        return terminating
    }

    /// DNS-1123 names (pkg/apis/core/validation `ValidateObjectMeta`); RBAC objects take any
    /// path segment (pkg/apis/rbac/validation `ValidateRBACName`), so `system:discovery` is one.
    private static func validateName(_ name: String, _ resource: ResourceType) throws(APIError) {
        if [.roles, .roleBindings, .clusterRoles, .clusterRoleBindings].contains(resource) {
            guard name != ".", name != "..", !name.contains("/"), !name.contains("%") else {
                throw APIError.invalid(resource, name, field: "metadata.name", "Invalid value: \"\(name)\": may not contain '/', '%', or be '.' or '..'")
            }
            return
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        let limit = resource == .namespaces || resource == .services ? 63 : 253
        guard name.count <= limit, name.allSatisfy(allowed.contains), name.first?.isLetter == true || name.first?.isNumber == true,
            name.last?.isLetter == true || name.last?.isNumber == true
        else {
            throw APIError.invalid(
                resource, name, field: "metadata.name",
                "Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            )
        }
    }
}
