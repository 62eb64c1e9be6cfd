import Testing

@testable import KubeClient

/// The rules a rules review lists, matched against kfwd's checks as the apiserver's RBAC matches
/// them; no server.
@Suite struct AccessRulesTests {
    @Test func rulesGrantAsRBACMatchesThem() {
        let rules = AccessRules(
            rules: [
                AccessRules.Rule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "services"]),
                AccessRules.Rule(verbs: ["create"], apiGroups: [""], resources: ["*/portforward"]),
                AccessRules.Rule(verbs: ["get"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"]),
                AccessRules.Rule(verbs: ["*"], apiGroups: ["discovery.k8s.io"], resources: ["*"]),
            ],
            incomplete: false
        )
        #expect(rules.grant(AccessCheck("list", "pods", namespace: "shop")))
        #expect(!rules.grant(AccessCheck("watch", "pods", namespace: "shop")))
        #expect(rules.grant(AccessCheck("create", "pods", subresource: "portforward", namespace: "shop")))
        #expect(!rules.grant(AccessCheck("get", "pods", subresource: "portforward", namespace: "shop")))
        // A rule for one name does not grant the kind.
        #expect(!rules.grant(AccessCheck("get", "deployments", group: "apps", namespace: "shop")))
        #expect(rules.grant(AccessCheck("watch", "endpointslices", group: "discovery.k8s.io", namespace: "shop")))
        #expect(!rules.grant(AccessCheck("list", "endpointslices", namespace: "shop")))
        let admin = AccessRules(rules: [AccessRules.Rule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])], incomplete: false)
        #expect(admin.grant(AccessCheck("create", "pods", subresource: "portforward", namespace: "shop")))
    }
}
