import Testing

import KubeLabels
@testable import KubeSim

@Suite struct LabelSelectorTests {
    @Test func parsesEveryOperatorOfTheSelectorGrammar() throws {
        let selector = try LabelSelector(parsing: "app=web, tier==front,env!=prod,zone in (a, b),team notin (x),canary,!legacy")
        #expect(selector.matches(["app": "web", "tier": "front", "env": "dev", "zone": "a", "team": "y", "canary": ""]))
        #expect(!selector.matches(["app": "web", "tier": "front", "env": "prod", "zone": "a", "canary": ""]))
        #expect(!selector.matches(["app": "web", "tier": "front", "zone": "c", "canary": ""]))
        #expect(!selector.matches(["app": "web", "tier": "front", "zone": "a", "canary": "", "legacy": "1"]))
        #expect(!selector.matches(["app": "web", "tier": "front", "zone": "a"]))
        #expect(try LabelSelector(parsing: "").matches([:]))
    }

    @Test func rejectsMalformedSelectorsWithA400() {
        let error = #expect(throws: APIError.self) { try LabelSelector(query: "app in a,b") }
        #expect(error?.code == 400)
        #expect(throws: APIError.self) { try LabelSelector(query: "bad key=x") }
    }

    @Test func fieldSelectorsSupportWhatThePodStrategyDoes() throws {
        let pod: JSON = ["metadata": ["name": "a", "namespace": "ns"], "status": ["phase": "Running"]]
        #expect(try FieldSelector(parsing: "metadata.name=a,status.phase!=Pending", resource: .pods).matches(pod))
        #expect(try !FieldSelector(parsing: "metadata.name=b", resource: .pods).matches(pod))
        let error = #expect(throws: APIError.self) { try FieldSelector(parsing: "spec.image=x", resource: .pods) }
        #expect(error?.message == "field label not supported: spec.image")
    }
}

@Suite struct PatchTests {
    @Test func mergePatchReplacesListsAndDeletesNulls() {
        let target: JSON = ["spec": ["replicas": 1, "ports": [["port": 80]]], "metadata": ["labels": ["a": "1", "b": "2"]]]
        let patch: JSON = ["spec": ["replicas": 3, "ports": [["port": 81]]], "metadata": ["labels": ["b": nil, "c": "3"]]]
        let result = JSONMergePatch.apply(patch, to: target)
        #expect(result == ["spec": ["replicas": 3, "ports": [["port": 81]]], "metadata": ["labels": ["a": "1", "c": "3"]]])
    }

    @Test func strategicMergePatchMergesContainersByNameAndKeepsOthers() {
        let target: JSON = ["spec": ["template": ["metadata": ["annotations": ["x": "1"]], "spec": ["containers": [
            ["name": "web", "image": "a:1", "ports": [["containerPort": 80]]], ["name": "sidecar", "image": "s:1"],
        ]]]]]
        let patch: JSON = ["spec": ["template": [
            "metadata": ["annotations": ["kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"]],
            "spec": ["containers": [["name": "web", "image": "a:2"], ["name": "sidecar", "$patch": "delete"]]],
        ]]]
        let result = StrategicMergePatch.apply(patch, to: target)
        #expect(result[path: ["spec", "template", "metadata", "annotations"]] == ["x": "1", "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"])
        #expect(result[path: ["spec", "template", "spec", "containers"]] == [["name": "web", "image": "a:2", "ports": [["containerPort": 80]]]])
    }

    @Test func humanDurationMatchesKubectlAgeColumn() {
        let now = Timestamp.date("2026-01-01T12:00:00Z")!
        #expect(Timestamp.age(since: "2026-01-01T11:59:55Z", now: now) == "5s")
        #expect(Timestamp.age(since: "2026-01-01T11:55:30Z", now: now) == "4m30s")
        #expect(Timestamp.age(since: "2026-01-01T11:00:00Z", now: now) == "60m")
        #expect(Timestamp.age(since: "2026-01-01T07:30:00Z", now: now) == "4h30m")
        #expect(Timestamp.age(since: "2025-12-29T12:00:00Z", now: now) == "3d")
    }
}
