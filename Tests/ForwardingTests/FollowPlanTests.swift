import KubeClient
import Testing

@testable import Forwarding

/// Which way a forward follows its pods, from the rights its user has: no cluster, the access
/// reviews' answers given by hand.
@Suite struct FollowPlanTests {
    private static func rights(_ rules: [(verbs: [String], resource: String, group: String)]) -> Set<AccessCheck> {
        Set(rules.flatMap { rule in rule.verbs.map { AccessCheck($0, rule.resource, group: rule.group, namespace: "shop") } })
    }

    /// What `kubectl port-forward svc/NAME` needs.
    private static let kubectl = Self.rights([(["get"], "services", ""), (["get", "list"], "pods", "")])
        .union([AccessCheck("create", "pods", subresource: "portforward", namespace: "shop")])

    @Test func everythingWatchedWhenTheUserMayWatch() throws {
        let all = Self.kubectl.union(Self.rights([
            (["list", "watch"], "services", ""), (["list", "watch"], "endpointslices", "discovery.k8s.io"), (["watch"], "pods", ""),
            (["get", "list", "watch"], "deployments", "apps"),
        ]))
        #expect(try FollowPlan.make(for: .service("web"), namespace: "shop", allowed: all) == FollowPlan(source: .serviceEndpoints(services: .watch, slices: .watch), degraded: nil))
        #expect(try FollowPlan.make(for: .deployment("web"), namespace: "shop", allowed: all) == FollowPlan(source: .deployment(deployments: .watch, pods: .watch), degraded: nil))
        #expect(try FollowPlan.make(for: .selector("app=web"), namespace: "shop", allowed: all).source == .pods(.watch))
    }

    @Test func kubectlsRightsFindAServicesPodsByItsSelectorPolling() throws {
        let plan = try FollowPlan.make(for: .service("web"), namespace: "shop", allowed: Self.kubectl)
        #expect(plan.source == .servicePods(services: .get(name: "web", every: .seconds(3)), pods: .list(every: .seconds(3))))
        #expect(
            plan.degraded
                == "following svc/web by polling every 3 s: list on services, list on endpointslices.discovery.k8s.io and watch on pods are not allowed in namespace shop"
        )
        // pod/NAME: its namespace's pods listed, or it alone read by name when only get is allowed.
        #expect(try FollowPlan.make(for: .pod("web-0"), namespace: "shop", allowed: Self.kubectl).source == .pods(.list(every: .seconds(3))))
        let getOnly = Self.kubectl.subtracting([AccessCheck("list", "pods", namespace: "shop")])
        #expect(try FollowPlan.make(for: .pod("web-0"), namespace: "shop", allowed: getOnly).source == .pods(.get(name: "web-0", every: .seconds(3))))
    }

    @Test func listWithoutWatchPolls() throws {
        let listing = Self.kubectl.union(Self.rights([(["list"], "services", ""), (["list"], "endpointslices", "discovery.k8s.io")]))
        let plan = try FollowPlan.make(for: .service("web"), namespace: "shop", allowed: listing)
        #expect(plan.source == .serviceEndpoints(services: .list(every: .seconds(3)), slices: .list(every: .seconds(3))))
        #expect(plan.degraded?.hasSuffix("watch on services and watch on endpointslices.discovery.k8s.io are not allowed in namespace shop") == true)
    }

    @Test func whatCannotBeDoneIsRefusedNamingTheRightAndTheRule() {
        func refusal(_ target: ForwardTarget, _ allowed: Set<AccessCheck>) -> ForwardError? {
            do {
                _ = try FollowPlan.make(for: target, namespace: "shop", allowed: allowed)
                return nil
            } catch {
                return error
            }
        }
        let noForward = refusal(.service("web"), Self.kubectl.subtracting([AccessCheck("create", "pods", subresource: "portforward", namespace: "shop")]))
        #expect(noForward?.code == .forbidden)
        #expect(noForward?.message == "svc/web cannot be forwarded to: create on pods/portforward is not allowed in namespace shop")
        #expect(noForward?.fix?.contains(#"{apiGroups: [""], resources: [pods/portforward], verbs: [create]}"#) == true)
        // The tunnel's get is enough: kfwd tries it first.
        let tunnelOnly = Self.kubectl.subtracting([AccessCheck("create", "pods", subresource: "portforward", namespace: "shop")])
            .union([AccessCheck("get", "pods", subresource: "portforward", namespace: "shop")])
        #expect(refusal(.service("web"), tunnelOnly) == nil)
        let noPods = refusal(.service("web"), Self.kubectl.subtracting([AccessCheck("list", "pods", namespace: "shop")]))
        #expect(noPods?.message == "the pods of svc/web cannot be found: list on endpointslices.discovery.k8s.io and list on pods are not allowed in namespace shop")
        #expect(refusal(.deployment("web"), Self.kubectl)?.message == "deploy/web cannot be read: get on deployments.apps is not allowed in namespace shop")
        #expect(refusal(.service("web"), Self.kubectl.subtracting([AccessCheck("get", "services", namespace: "shop")]))?.message == "svc/web cannot be read: get on services is not allowed in namespace shop")
    }
}
