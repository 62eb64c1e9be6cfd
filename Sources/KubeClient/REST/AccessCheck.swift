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

    /// The check a 403 refused, read from the apiserver's words for it (`User "dev" cannot list
    /// resource "pods/portforward" in API group "" in the namespace "shop"`, from
    /// responsewriters `forbiddenMessage`); nil for any other message.
    public init?(refusal message: String) {
        func field(after marker: String, in text: Substring) -> (value: String, rest: Substring)? {
            guard let start = text.range(of: marker) else { return nil }
            let rest = text[start.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { return nil }
            return (String(rest[..<end]), rest[rest.index(after: end)...])
        }
        guard let cannot = message.range(of: "\" cannot ") else { return nil }
        let afterVerb = message[cannot.upperBound...]
        guard let space = afterVerb.firstIndex(of: " ") else { return nil }
        let verb = String(afterVerb[..<space])
        guard let resource = field(after: "resource \"", in: afterVerb), let group = field(after: "in API group \"", in: resource.rest) else { return nil }
        let namespace = field(after: "in the namespace \"", in: group.rest)?.value
        let parts = resource.value.split(separator: "/", maxSplits: 1).map(String.init)
        guard let name = parts.first else { return nil }
        self.init(verb, name, group: group.value, subresource: parts.count > 1 ? parts[1] : nil, namespace: namespace)
    }

    /// What to ask an admin for: the smallest rule, in a Role of the namespace (or a
    /// ClusterRole for a cluster-wide check).
    public var fix: String {
        "ask for a \(self.namespace.map { "Role in \($0)" } ?? "ClusterRole") with \(self.rule) (docs/rbac.md), or use a context with more rights"
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
    public var rule: String { Self.rule(for: [self]) }

    /// One rule allowing all of `checks` (one resource, several verbs), as YAML.
    public static func rule(for checks: [AccessCheck]) -> String {
        let first = checks.first ?? AccessCheck("get", "pods", namespace: nil)
        let resource = first.subresource.map { "\(first.resource)/\($0)" } ?? first.resource
        return "{apiGroups: [\"\(first.group)\"], resources: [\(resource)], verbs: [\(checks.map(\.verb).joined(separator: ", "))]}"
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

