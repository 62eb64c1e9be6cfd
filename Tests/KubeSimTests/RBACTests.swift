import Foundation
import Testing

@testable import KubeSim

/// KubeSim's authorization without a server: rules matched as the apiserver's RBAC matches
/// them, bindings resolved per namespace, and the apiserver's words for a refusal.
@Suite struct RBACTests {
    private static let role = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: port-forward, namespace: shop}
        rules:
        - {apiGroups: [""], resources: [services], verbs: [get]}
        - {apiGroups: [""], resources: [pods], verbs: [get, list]}
        - {apiGroups: [""], resources: [pods/portforward], verbs: [create]}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: dev, namespace: shop}
        subjects: [{kind: ServiceAccount, name: dev}]
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: port-forward}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: read-slices}
        rules:
        - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch], resourceNames: []}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: team-slices}
        subjects: [{kind: Group, name: team}]
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: read-slices}
        """

    private func authorizer() throws -> RBACAuthorizer {
        let store = ObjectStore(historyLimit: 100)
        for object in try ManifestLoader.parse(Self.role) + BootstrapPolicy.objects {
            let type = try #require(ResourceType.find(apiVersion: object["apiVersion"]!.stringValue!, kind: object["kind"]!.stringValue!))
            let namespace = type.namespaced ? object[path: ["metadata", "namespace"]]?.stringValue ?? "" : ""
            _ = try store.create(ObjectKey(resource: type, namespace: namespace, name: object[path: ["metadata", "name"]]!.stringValue!), object)
        }
        return RBACAuthorizer(store: store)
    }

    private func pods(_ verb: String, subresource: String? = nil, in namespace: String = "shop", name: String? = nil) -> RequestAttributes {
        .resource(verb: verb, group: "", resource: "pods", subresource: subresource, namespace: namespace, name: name)
    }

    @Test func aServiceAccountGetsWhatItsRoleBindingGrantsInThatNamespaceOnly() throws {
        let rbac = try self.authorizer()
        let dev = UserInfo.serviceAccount(namespace: "shop", name: "dev")
        #expect(rbac.authorize(dev, self.pods("get", name: "web-0")) == .allowed(#"RBAC: allowed by RoleBinding "dev/shop" of Role "port-forward" to ServiceAccount "dev/shop""#))
        #expect(rbac.authorize(dev, self.pods("list")) != .denied)
        #expect(rbac.authorize(dev, self.pods("watch")) == .denied)
        #expect(rbac.authorize(dev, self.pods("create", subresource: "portforward", name: "web-0")) != .denied)
        // The tunnel's GET is checked as get: a Role granting create only does not allow it.
        #expect(rbac.authorize(dev, self.pods("get", subresource: "portforward", name: "web-0")) == .denied)
        #expect(rbac.authorize(dev, self.pods("get", in: "default", name: "web-0")) == .denied)
        // The same name in another namespace is another ServiceAccount.
        #expect(rbac.authorize(.serviceAccount(namespace: "default", name: "dev"), self.pods("get", name: "web-0")) == .denied)
        #expect(rbac.authorize(dev, .nonResource(verb: "get", path: "/apis/discovery.k8s.io/v1")) != .denied)
        #expect(rbac.authorize(dev, .nonResource(verb: "get", path: "/metrics")) == .denied)
    }

    @Test func groupsWildcardsAndNamesMatchAsTheApiserverMatchesThem() throws {
        let rbac = try self.authorizer()
        let member = UserInfo(name: "ann", groups: ["team"])
        let slices = RequestAttributes.resource(verb: "watch", group: "discovery.k8s.io", resource: "endpointslices", subresource: nil, namespace: "any", name: nil)
        #expect(rbac.authorize(member, slices) == .allowed(#"RBAC: allowed by ClusterRoleBinding "team-slices" of ClusterRole "read-slices" to Group "team""#))
        #expect(rbac.authorize(UserInfo(name: "ann", groups: []), slices) == .denied)
        #expect(rbac.authorize(UserInfo(name: "root", groups: [UserInfo.masters]), slices) == .allowed(""))

        let named = PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["*/portforward"], resourceNames: ["web-0"])
        #expect(named.allows(self.pods("get", subresource: "portforward", name: "web-0")))
        #expect(!named.allows(self.pods("get", subresource: "portforward", name: "web-1")))
        #expect(!named.allows(self.pods("get", name: "web-0")))
        let prefix = PolicyRule(verbs: ["*"], nonResourceURLs: ["/openapi/*"])
        #expect(prefix.allows(.nonResource(verb: "get", path: "/openapi/v3/api/v1")))
        #expect(!prefix.allows(.nonResource(verb: "get", path: "/openapi")))
    }

    @Test func aRefusalIsWordedAsTheApiserverWordsIt() {
        let named = self.pods("get", subresource: "portforward", name: "web-0").forbidden(user: "dev")
        #expect(named.code == 403 && named.reason == "Forbidden")
        #expect(named.message == #"pods "web-0" is forbidden: User "dev" cannot get resource "pods/portforward" in API group "" in the namespace "shop""#)
        let list = RequestAttributes.resource(verb: "list", group: "apps", resource: "deployments", subresource: nil, namespace: nil, name: nil).forbidden(user: "dev")
        #expect(list.message == #"deployments.apps is forbidden: User "dev" cannot list resource "deployments" in API group "apps" at the cluster scope"#)
        #expect(RequestAttributes.nonResource(verb: "get", path: "/metrics").forbidden(user: "dev").message == #"forbidden: User "dev" cannot get path "/metrics""#)
    }

    @Test func verbsComeFromTheMethodAsTheRequestInfoResolverSaysThem() {
        func verb(_ method: String, _ uri: String) -> String {
            RequestAttributes(APIRequest(method: method, uri: uri, headers: [], body: Data(), user: UserInfo(name: "u", groups: []))).verb
        }
        #expect(verb("GET", "/api/v1/namespaces/shop/pods") == "list")
        #expect(verb("GET", "/api/v1/namespaces/shop/pods?watch=true") == "watch")
        #expect(verb("GET", "/api/v1/namespaces/shop/pods/web-0") == "get")
        #expect(verb("GET", "/api/v1/namespaces/shop/pods/web-0/portforward") == "get")
        #expect(verb("POST", "/api/v1/namespaces/shop/pods/web-0/portforward") == "create")
        #expect(verb("DELETE", "/api/v1/namespaces/shop/pods") == "deletecollection")
        #expect(verb("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web") == "patch")
        #expect(verb("GET", "/version") == "get")
    }
}
