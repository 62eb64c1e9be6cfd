import Foundation

/// Authorization of every request, the access reviews (`kubectl auth can-i`, `--list`) and the
/// TokenRequest API (`kubectl create token`).
extension ClusterAPI {
    /// Throws the apiserver's 403 unless RBAC (or `system:masters`) allows the request.
    func authorize(_ request: APIRequest) throws(APIError) {
        let attributes = RequestAttributes(request)
        guard case .allowed = self.authorizer.authorize(request.user, attributes) else {
            throw attributes.forbidden(user: request.user.name)
        }
    }

    /// `POST selfsubjectaccessreviews` and `selfsubjectrulesreviews`
    /// (pkg/registry/authorization/selfsubject*review/rest.go): the request's own user is
    /// reviewed, the answer is the review with its status, nothing is stored.
    func review(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> APIResponse {
        guard request.method == "POST", path.name == nil else { throw APIError.methodNotAllowed() }
        var review = try request.jsonBody()
        guard review.objectValue != nil, let spec = review["spec"] else {
            throw APIError.invalid(path.resource, "", field: "spec", "Required value")
        }
        review["apiVersion"] = .string(path.resource.groupVersion)
        review["kind"] = .string(path.resource.kind)
        review[path: ["metadata", "creationTimestamp"]] = .null
        if path.resource == .selfSubjectAccessReviews {
            let attributes: RequestAttributes
            if let resource = spec["resourceAttributes"] {
                let text = { (key: String) in resource[key]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
                attributes = .resource(
                    verb: text("verb") ?? "", group: text("group") ?? "", resource: text("resource") ?? "", subresource: text("subresource"),
                    namespace: text("namespace"), name: text("name")
                )
            } else if let nonResource = spec["nonResourceAttributes"] {
                attributes = .nonResource(verb: nonResource["verb"]?.stringValue ?? "", path: nonResource["path"]?.stringValue ?? "")
            } else {
                throw APIError.invalid(
                    path.resource, "", field: "spec.resourceAttributes", "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified"
                )
            }
            var status: [String: JSON] = [:]
            switch self.authorizer.authorize(request.user, attributes) {
            case .allowed(let reason):
                status["allowed"] = true
                if !reason.isEmpty { status["reason"] = .string(reason) }
            case .denied:
                status["allowed"] = false
            }
            review["status"] = .object(status)
        } else {
            let namespace = spec["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            let rules = self.authorizer.rules(for: request.user, namespace: namespace).map(\.rule)
            let resourceRules = rules.filter { $0.nonResourceURLs.isEmpty }.map { rule in
                PolicyRule(verbs: rule.verbs, apiGroups: rule.apiGroups, resources: rule.resources, resourceNames: rule.resourceNames).json
            }
            let nonResourceRules = rules.filter { !$0.nonResourceURLs.isEmpty }.map { rule in
                PolicyRule(verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs).json
            }
            review["status"] = .object([
                "resourceRules": .array(resourceRules), "nonResourceRules": .array(nonResourceRules), "incomplete": false,
            ])
        }
        return .object(status: 201, review)
    }

    /// `POST serviceaccounts/NAME/token` (pkg/registry/core/serviceaccount/storage/token.go): a
    /// bearer token for the ServiceAccount, valid for `spec.expirationSeconds` (an hour when not
    /// given, at least ten minutes), shaped as a JWT whose claims say whom and until when.
    func tokenRequest(_ request: APIRequest, namespace: String, serviceAccount: String) throws(APIError) -> APIResponse {
        guard self.store.get(ObjectKey(resource: .serviceAccounts, namespace: namespace, name: serviceAccount)) != nil else {
            throw APIError.notFound(.serviceAccounts, serviceAccount)
        }
        var tokenRequest = request.body.isEmpty ? JSON.object([:]) : try request.jsonBody()
        let seconds = tokenRequest[path: ["spec", "expirationSeconds"]]?.intValue ?? 3600
        guard seconds >= 600 else {
            throw APIError(
                code: 422, reason: "Invalid",
                message: "TokenRequest.authentication.k8s.io \"\(serviceAccount)\" is invalid: spec.expirationSeconds: Invalid value: \(seconds): may not specify a duration less than 10 minutes"
            )
        }
        let now = Date()
        let expires = now.addingTimeInterval(TimeInterval(seconds))
        let audiences = tokenRequest[path: ["spec", "audiences"]]?.arrayValue?.compactMap(\.stringValue) ?? []
        let user = UserInfo.serviceAccount(namespace: namespace, name: serviceAccount)
        let token = ServiceAccountToken.make(user: user.name, namespace: namespace, serviceAccount: serviceAccount, audiences: audiences, issued: now, expires: expires)
        self.authenticator.setToken(token, user: user, expires: expires)
        tokenRequest["apiVersion"] = "authentication.k8s.io/v1"
        tokenRequest["kind"] = "TokenRequest"
        tokenRequest[path: ["metadata", "name"]] = .string(serviceAccount)
        tokenRequest[path: ["metadata", "namespace"]] = .string(namespace)
        tokenRequest[path: ["metadata", "creationTimestamp"]] = .string(Timestamp.string(now))
        tokenRequest[path: ["spec", "expirationSeconds"]] = .int(seconds)
        tokenRequest[path: ["spec", "audiences"]] = .array(audiences.map { .string($0) })
        tokenRequest["status"] = .object(["token": .string(token), "expirationTimestamp": .string(Timestamp.string(expires))])
        return .object(status: 201, tokenRequest)
    }
}
