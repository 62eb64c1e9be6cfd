import KubeClient

/// How a forward follows its target's pods with the rights its user has, decided once per
/// context and namespace from access reviews: watch what may be watched; list at an interval
/// what may only be listed; read by name what may only be read; find a Service's pods from its
/// selector when its EndpointSlices may not be read. What cannot be done at all is an error that
/// names the missing right and the rule that grants it.
struct FollowPlan: Sendable, Equatable {
    /// The informers a picker reads, each with how it follows its objects.
    enum Source: Sendable, Equatable {
        case serviceEndpoints(services: ReflectorMode, slices: ReflectorMode)
        /// A Service's pods by its selector: no right to read EndpointSlices.
        case servicePods(services: ReflectorMode, pods: ReflectorMode)
        case deployment(deployments: ReflectorMode, pods: ReflectorMode)
        case pods(ReflectorMode)

        var modes: [ReflectorMode] {
            switch self {
            case .serviceEndpoints(let a, let b), .servicePods(let a, let b), .deployment(let a, let b): [a, b]
            case .pods(let mode): [mode]
            }
        }
    }

    let source: Source
    /// What the user may not do and what it costs, nil when everything is watched.
    let degraded: String?

    static let pollInterval: Duration = .seconds(3)

    /// Every question whose answer shapes the plan.
    static func checks(for target: ForwardTarget, namespace: String) -> [AccessCheck] {
        let follow = { (resource: String, group: String) in
            ["get", "list", "watch"].map { AccessCheck($0, resource, group: group, namespace: namespace) }
        }
        var checks = self.portForward(namespace) + follow("pods", "")
        switch target {
        case .service: checks += follow("services", "") + follow("endpointslices", "discovery.k8s.io")
        case .deployment: checks += follow("deployments", "apps")
        case .pod, .selector, .address: break
        }
        return checks
    }

    /// The port-forward itself: SPDY's POST is checked as create, the WebSocket tunnel's GET as
    /// get (1.35 and later check create as well); kfwd tries both.
    private static func portForward(_ namespace: String) -> [AccessCheck] {
        ["create", "get"].map { AccessCheck($0, "pods", subresource: "portforward", namespace: namespace) }
    }

    /// - Throws: ``ForwardError`` (`forbidden`) naming what is missing when the target cannot
    ///   be followed or forwarded to at all.
    static func make(for target: ForwardTarget, namespace: String, allowed: Set<AccessCheck>) throws(ForwardError) -> FollowPlan {
        var denied: [AccessCheck] = []
        func mode(_ resource: String, group: String = "", name: String? = nil) -> ReflectorMode? {
            let check = { (verb: String) in AccessCheck(verb, resource, group: group, namespace: namespace) }
            if allowed.contains(check("list")) {
                if allowed.contains(check("watch")) { return .watch }
                denied.append(check("watch"))
                return .list(every: self.pollInterval)
            }
            denied.append(check("list"))
            if let name, allowed.contains(check("get")) { return .get(name: name, every: self.pollInterval) }
            return nil
        }
        func refuse(_ missing: [AccessCheck], _ what: String) -> ForwardError {
            Self.refusal(missing, what, namespace: namespace, all: false)
        }
        let portForward = self.portForward(namespace)
        guard portForward.contains(where: allowed.contains) else { throw refuse([portForward[0]], "\(target) cannot be forwarded to") }
        let source: Source
        switch target {
        case .service(let name):
            guard let services = mode("services", name: name) else {
                throw refuse([AccessCheck("get", "services", namespace: namespace)], "svc/\(name) cannot be read")
            }
            if let slices = mode("endpointslices", group: "discovery.k8s.io") {
                source = .serviceEndpoints(services: services, slices: slices)
            } else if let pods = mode("pods") {
                source = .servicePods(services: services, pods: pods)
            } else {
                throw refuse(
                    [AccessCheck("list", "endpointslices", group: "discovery.k8s.io", namespace: namespace), AccessCheck("list", "pods", namespace: namespace)],
                    "the pods of svc/\(name) cannot be found"
                )
            }
        case .deployment(let name):
            guard let deployments = mode("deployments", group: "apps", name: name) else {
                throw refuse([AccessCheck("get", "deployments", group: "apps", namespace: namespace)], "deploy/\(name) cannot be read")
            }
            guard let pods = mode("pods") else { throw refuse([AccessCheck("list", "pods", namespace: namespace)], "the pods of deploy/\(name) cannot be found") }
            source = .deployment(deployments: deployments, pods: pods)
        case .selector(let selector):
            guard let pods = mode("pods") else { throw refuse([AccessCheck("list", "pods", namespace: namespace)], "the pods -l \(selector) cannot be found") }
            source = .pods(pods)
        case .pod(let name):
            guard let pods = mode("pods", name: name) else { throw refuse([AccessCheck("get", "pods", namespace: namespace)], "pod/\(name) cannot be read") }
            source = .pods(pods)
        case .address:
            source = .pods(.watch)
        }
        // Watching everything it needs, the forward loses nothing by what it may not do.
        let polling = source.modes.contains { $0 != .watch }
        let degraded =
            polling
            ? "following \(target) by polling every \(Int(self.pollInterval.components.seconds)) s: \(Self.list(denied)) \(denied.count == 1 ? "is" : "are") not allowed in namespace \(namespace)"
            : nil
        return FollowPlan(source: source, degraded: degraded)
    }

    /// How to follow one pod by name with the rights of `context`'s user: watched when they
    /// allow it or cannot be told, else polled.
    static func podMode(_ name: String, namespace: String, context: KubeContext, cache: KubeClientCache) async -> ReflectorMode {
        let target = ForwardTarget.pod(name)
        let allowed = await cache.allowed(Self.checks(for: target, namespace: namespace), context: context)
        if case .pods(let mode)? = (try? Self.make(for: target, namespace: namespace, allowed: allowed))?.source { return mode }
        return .watch
    }

    /// The forbidden error for what cannot be done without `missing` (each needed, or any one of
    /// them, as `all` says), with the Role rules that grant it.
    static func refusal(_ missing: [AccessCheck], _ what: String, namespace: String, all: Bool) -> ForwardError {
        let fix: String?
        if missing.count == 1 {
            fix = missing[0].fix
        } else {
            // Several verbs on one resource are one rule.
            let resources = Dictionary(grouping: missing) { [$0.group, $0.resource, $0.subresource ?? ""] }
            let rules = all ? resources.values.map(AccessCheck.rule(for:)).sorted() : missing.map(\.rule)
            fix = "ask for a Role in \(namespace) with \(rules.joined(separator: all ? " and " : " or ")) (docs/rbac.md), or use a context with more rights"
        }
        return ForwardError(code: .forbidden, "\(what): \(Self.list(missing)) \(missing.count == 1 ? "is" : "are") not allowed in namespace \(namespace)", fix: fix)
    }

    /// `a`, `a and b`, `a, b and c`.
    private static func list(_ checks: [AccessCheck]) -> String {
        let names = checks.map { "\($0.verb) on \($0.resourceName)" }
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}
