extension KubeClientCache {
    /// How long an answer is reused: rights change rarely, and every forward of a namespace
    /// asks the same questions when it starts.
    static let accessAnswerLifetime: Duration = .seconds(60)

    /// Which of `checks` the context's user is allowed, from a rules review per namespace (and
    /// access reviews for what it cannot tell), remembered for a minute. A check the server cannot answer (unreachable, or the
    /// review itself refused) counts as allowed: the request it stands for then says what is
    /// wrong when it is made.
    public func allowed(_ checks: [AccessCheck], context: KubeContext) async -> Set<AccessCheck> {
        let now = ContinuousClock.now
        var allowed = Set<AccessCheck>()
        var unknown: [AccessCheck] = []
        self.accessAnswers.withLock { answers in
            for check in Set(checks) {
                if let answer = answers[AccessKey(context: context, check: check)], now - answer.at < Self.accessAnswerLifetime {
                    if answer.allowed { allowed.insert(check) }
                } else {
                    unknown.append(check)
                }
            }
        }
        guard !unknown.isEmpty else { return allowed }
        guard let client = try? self.client(for: context) else { return allowed.union(unknown) }
        // One rules review per namespace answers most checks in one request; what its rules do
        // not grant is final unless the review was incomplete, then asked check by check.
        var answered: [(AccessCheck, Bool?)] = []
        var ask: [AccessCheck] = []
        for (namespace, checks) in Dictionary(grouping: unknown, by: \.namespace) {
            guard let namespace, let rules = try? await client.accessRules(namespace: namespace) else {
                ask += checks
                continue
            }
            for check in checks {
                if rules.grant(check) {
                    answered.append((check, true))
                } else if rules.incomplete {
                    ask.append(check)
                } else {
                    answered.append((check, false))
                }
            }
        }
        answered += await withTaskGroup(of: (AccessCheck, Bool?).self) { group in
            for check in ask { group.addTask { (check, try? await client.allows(check)) } }
            return await group.reduce(into: [(AccessCheck, Bool?)]()) { $0.append($1) }
        }
        self.accessAnswers.withLock { answers in
            for (check, answer) in answered {
                if let answer { answers[AccessKey(context: context, check: check)] = (answer, ContinuousClock.now) }
            }
        }
        for (check, answer) in answered where answer ?? true { allowed.insert(check) }
        return allowed
    }
}
