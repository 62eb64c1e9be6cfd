import Foundation

/// One question to the API server's authorizer: may the kubeconfig's user do `verb` on
/// `resource` (in `group`, maybe its `subresource`) in `namespace`? Asked with a
/// SelfSubjectAccessReview, as `kubectl auth can-i` asks it.
public struct AccessCheck: Sendable, Hashable, CustomStringConvertible {
    public let verb: String
    public let group: String
    public let resource: String
    public let subresource: String?
    public let namespace: String?

    public init(_ verb: String, _ resource: String, group: String = "", subresource: String? = nil, namespace: String?) {
        self.verb = verb
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
    }

    /// The resource as kubectl names it: `pods/portforward`, `endpointslices.discovery.k8s.io`.
    public var resourceName: String {
        let base = self.group.isEmpty ? self.resource : "\(self.resource).\(self.group)"
        return self.subresource.map { "\(base)/\($0)" } ?? base
    }

    /// `list on endpointslices.discovery.k8s.io in shop`.
    public var description: String {
        "\(self.verb) on \(self.resourceName)" + (self.namespace.map { " in \($0)" } ?? "")
    }

    /// The smallest Role (or ClusterRole, without a namespace) rule that allows it, as YAML.
    public var rule: String {
        let resource = self.subresource.map { "\(self.resource)/\($0)" } ?? self.resource
        return "{apiGroups: [\"\(self.group)\"], resources: [\(resource)], verbs: [\(self.verb)]}"
    }
}

extension KubeClient {
    private struct Review: Codable {
        struct Attributes: Codable {
            var namespace: String?
            var verb: String
            var group: String
            var resource: String
            var subresource: String?
        }

        struct Spec: Codable { var resourceAttributes: Attributes }

        struct Status: Codable {
            var allowed: Bool
            var reason: String?
        }

        var apiVersion = "authorization.k8s.io/v1"
        var kind = "SelfSubjectAccessReview"
        var spec: Spec
        var status: Status?
    }

    /// Whether the API server allows `check` to this client's user.
    /// - Throws: ``KubeError`` when the server cannot be asked (unreachable, or the review itself
    ///   refused).
    public func allows(_ check: AccessCheck) async throws(KubeError) -> Bool {
        let review = Review(spec: .init(resourceAttributes: .init(
            namespace: check.namespace, verb: check.verb, group: check.group, resource: check.resource, subresource: check.subresource
        )))
        let body: Data
        do { body = try JSONEncoder().encode(review) } catch { throw KubeError.decoding("cannot encode an access review: \(error)") }
        // Asked before a forward starts: an unreachable server must not hold it long.
        let answer = try self.decode(Review.self, try await self.send(.POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: body, deadline: .seconds(5)))
        return answer.status?.allowed ?? false
    }
}
