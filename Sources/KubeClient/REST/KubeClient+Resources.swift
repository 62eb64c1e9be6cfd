import AsyncHTTPClient
import Foundation
import NIOFoundationCompat
import NIOHTTP1

extension KubeClient {
    /// Reads one object.
    public func get<T: KubeResource>(_ type: T.Type, _ name: String, namespace: String? = nil) async throws(KubeError) -> T {
        try await self.decode(T.self, self.send(.GET, self.objectPath(T.self, name, namespace: namespace)))
    }

    /// Lists objects, following `continue` tokens until the list is complete.
    public func list<T: KubeResource>(
        _ type: T.Type, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil
    ) async throws(KubeError) -> ResourceList<T> {
        var query: [(String, String)] = [("limit", "500")]
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        let path = T.collectionPath(namespace: namespace ?? self.context.namespace)
        var result = try await self.decode(ResourceList<T>.self, self.send(.GET, path, query: query))
        while let token = result.metadata.continue, !token.isEmpty {
            let page = try await self.decode(ResourceList<T>.self, self.send(.GET, path, query: query + [("continue", token)]))
            result.items += page.items
            result.metadata = page.metadata
        }
        return result
    }

    /// Creates an object in `namespace` (else its own, else the context's).
    public func create<T: KubeResource>(_ object: T, namespace: String? = nil) async throws(KubeError) -> T {
        let body = try self.encode(ApiObject(object))
        let path = T.collectionPath(namespace: namespace ?? object.metadata.namespace ?? self.context.namespace)
        return try await self.decode(T.self, self.send(.POST, path, body: body))
    }

    /// Deletes an object.
    /// - Parameters:
    ///   - gracePeriodSeconds: nil for the object's own; 0 with a pod is a forced delete.
    ///   - propagationPolicy: `Background` (default), `Foreground` or `Orphan`.
    public func delete<T: KubeResource>(
        _ type: T.Type, _ name: String, namespace: String? = nil, gracePeriodSeconds: Int? = nil, propagationPolicy: String? = nil
    ) async throws(KubeError) {
        var options: [String: Any] = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let gracePeriodSeconds { options["gracePeriodSeconds"] = gracePeriodSeconds }
        if let propagationPolicy { options["propagationPolicy"] = propagationPolicy }
        let body = (try? JSONSerialization.data(withJSONObject: options)) ?? Data()
        _ = try await self.send(.DELETE, self.objectPath(T.self, name, namespace: namespace), body: body)
    }

    /// Applies a JSON merge patch (RFC 7386).
    public func mergePatch<T: KubeResource>(_ type: T.Type, _ name: String, namespace: String? = nil, patch: Data) async throws(KubeError) -> T {
        let path = self.objectPath(T.self, name, namespace: namespace)
        return try await self.decode(T.self, self.send(.PATCH, path, body: patch, contentType: "application/merge-patch+json"))
    }

    /// Reads the `scale` subresource of a Deployment.
    public func scale(deployment name: String, namespace: String? = nil) async throws(KubeError) -> Scale {
        try await self.decode(Scale.self, self.send(.GET, self.objectPath(Deployment.self, name, namespace: namespace) + "/scale"))
    }

    /// Sets a Deployment's replicas through its `scale` subresource.
    public func scale(deployment name: String, namespace: String? = nil, replicas: Int) async throws(KubeError) -> Scale {
        let path = self.objectPath(Deployment.self, name, namespace: namespace) + "/scale"
        let body = Data(#"{"spec":{"replicas":\#(replicas)}}"#.utf8)
        return try await self.decode(Scale.self, self.send(.PATCH, path, body: body, contentType: "application/merge-patch+json"))
    }

    /// An object's URL path, in `namespace` or else the context's.
    private func objectPath<T: KubeResource>(_ type: T.Type, _ name: String, namespace: String?) -> String {
        "\(T.collectionPath(namespace: namespace ?? self.context.namespace))/\(name)"
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: Response) throws(KubeError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: response.body)
        } catch {
            throw KubeError.decoding("the answer from \(self.context.server) is not a valid \(T.self): \(error)")
        }
    }

    private func encode<T: Encodable>(_ value: T) throws(KubeError) -> Data {
        do {
            return try JSONEncoder().encode(value)
        } catch {
            throw KubeError.decoding("cannot encode \(T.self): \(error)")
        }
    }
}

/// Adds `apiVersion` and `kind` to an object being written.
private struct ApiObject<T: KubeResource>: Encodable {
    let object: T
    init(_ object: T) { self.object = object }

    private enum Keys: String, CodingKey { case apiVersion, kind }

    func encode(to encoder: any Encoder) throws {
        try self.object.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(T.apiVersion, forKey: .apiVersion)
        try container.encode(T.kind, forKey: .kind)
    }
}
