import Foundation

/// An authenticated request as the API layer sees it.
struct APIRequest: Sendable {
    let method: String
    let path: String
    let query: [String: String]
    /// Every query item in order, for parameters that repeat (`ports=80&ports=443`).
    let queryItems: [(name: String, value: String)]
    let headers: [(name: String, value: String)]
    let body: Data
    let user: UserInfo

    init(method: String, uri: String, headers: [(name: String, value: String)], body: Data, user: UserInfo) {
        self.method = method
        self.headers = headers
        self.body = body
        self.user = user
        let components = URLComponents(string: uri)
        self.path = components?.percentEncodedPath.removingPercentEncoding ?? uri
        self.queryItems = (components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }
        var query: [String: String] = [:]
        for item in self.queryItems { query[item.name] = item.value }
        self.query = query
    }

    func header(_ name: String) -> String? {
        self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// `watch` is true for any value but "0" and "false" (apimachinery `Convert_Slice_string_To_bool`).
    var isWatch: Bool {
        guard let value = self.query["watch"] else { return false }
        return !["0", "false"].contains(value.lowercased())
    }

    /// Whether the client asked for a server-side `Table` (kubectl's human-readable output).
    var wantsTable: Bool {
        (self.header("Accept") ?? "").split(separator: ",").first.map { $0.contains("as=Table") } ?? false
    }

    func jsonBody() throws(APIError) -> JSON {
        if self.header("Content-Type")?.hasPrefix(ProtobufBody.contentType) == true { return try ProtobufBody.json(self.body) }
        do {
            return try JSON.parse(self.body)
        } catch {
            throw APIError.badRequest("the body of the request could not be decoded as JSON: \(error)")
        }
    }
}

/// What the API layer answers: a complete body, or a watch to stream.
enum APIResponse: Sendable {
    case object(status: Int, JSON, headers: [(String, String)] = [])
    case watch(WatchRequest)
    /// A bare status with a plain-text body (what non-API layers such as a WebSocket handshake answer).
    case plain(status: Int, text: String, headers: [(String, String)] = [])
}

/// A watch to be streamed by the HTTP layer.
struct WatchRequest: Sendable {
    let filter: WatchFilter
    let resourceVersion: String?
    let timeout: Duration
    let bookmarks: Bool
    let asTable: Bool
    /// A streaming list (section 4.5 of kubernetes-wire.md): initial ADDED events, then a bookmark
    /// annotated `k8s.io/initial-events-end`.
    let sendInitialEvents: Bool
}

/// The resource a path names: `/api/v1/namespaces/ns/pods/name/sub`.
struct ResourcePath: Sendable {
    let resource: ResourceType
    let namespace: String?
    let name: String?
    let subresource: String?

    init?(_ path: String) throws(APIError) {
        var parts = path.split(separator: "/").map(String.init)
        let groupVersion: String
        if parts.first == "api", parts.count >= 3 {
            groupVersion = parts[1]
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 4 {
            groupVersion = "\(parts[1])/\(parts[2])"
            parts.removeFirst(3)
        } else {
            return nil
        }
        var namespace: String?
        if parts.first == "namespaces", parts.count >= 3 {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard let plural = parts.first else { return nil }
        guard let resource = ResourceType.find(groupVersion: groupVersion, plural: plural) else {
            throw APIError.pathNotFound()
        }
        // `/api/v1/namespaces/NAME` is the namespace itself.
        if resource == .namespaces || (namespace != nil && !resource.namespaced) {
            if namespace != nil { throw APIError.pathNotFound() }
        }
        self.resource = resource
        self.namespace = namespace
        self.name = parts.count > 1 ? parts[1] : nil
        self.subresource = parts.count > 2 ? parts[2] : nil
        if parts.count > 3 { throw APIError.pathNotFound() }
    }

    init(resource: ResourceType, namespace: String?, name: String?, subresource: String? = nil) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.subresource = subresource
    }
}
