import Foundation
import Logging

/// Rolls Deployments out through ReplicaSets (pkg/controller/deployment): one ReplicaSet per pod
/// template, named `<deployment>-<pod-template-hash>`. A template change (such as the annotation
/// `kubectl rollout restart` sets) creates a new ReplicaSet at full size; old ones shrink as new
/// pods become ready, so serving capacity never drops during a rollout.
struct DeploymentController: Sendable {
    let api: ClusterAPI
    let logger: Logger

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for resource in [ResourceType.deployments, .replicaSets] {
                group.addTask {
                    let filter = WatchFilter(resource: resource, namespace: nil, labels: .everything, fields: .everything)
                    for await event in ControllerEvents(store: self.api.store, filter: filter) {
                        self.handle(event, resource: resource)
                    }
                }
            }
        }
    }

    private func handle(_ event: WatchEvent, resource: ResourceType) {
        let namespace = event.object[path: ["metadata", "namespace"]]?.stringValue ?? ""
        if resource == .deployments {
            if event.kind != .deleted, let name = event.object[path: ["metadata", "name"]]?.stringValue {
                self.reconcile(ObjectKey(resource: .deployments, namespace: namespace, name: name))
            }
            return
        }
        for owner in event.object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? [] where owner["kind"]?.stringValue == "Deployment" {
            if let name = owner["name"]?.stringValue {
                self.reconcile(ObjectKey(resource: .deployments, namespace: namespace, name: name))
            }
        }
    }

    private func reconcile(_ key: ObjectKey) {
        guard let deployment = self.api.store.get(key), deployment[path: ["metadata", "deletionTimestamp"]] == nil,
            let uid = deployment[path: ["metadata", "uid"]]?.stringValue
        else { return }
        let desired = deployment[path: ["spec", "replicas"]]?.intValue ?? 1
        let template = deployment[path: ["spec", "template"]] ?? .object([:])
        let hash = NameSuffix.hash(of: template)
        let newName = "\(key.name)-\(hash)"
        let all = self.api.store.list(WatchFilter(resource: .replicaSets, namespace: key.namespace, labels: .everything, fields: .everything)).items
            .filter { rs in (rs[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid } }
        let revision = (all.compactMap { $0[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]]?.stringValue.flatMap(Int.init) }.max() ?? 0)
        let newKey = ObjectKey(resource: .replicaSets, namespace: key.namespace, name: newName)
        if let existing = all.first(where: { $0[path: ["metadata", "name"]]?.stringValue == newName }) {
            if existing[path: ["spec", "replicas"]]?.intValue != desired {
                _ = try? self.api.store.update(newKey) { $0[path: ["spec", "replicas"]] = .int(desired) }
            }
        } else {
            self.createReplicaSet(deployment, key: key, uid: uid, name: newName, hash: hash, replicas: desired, revision: revision + 1)
        }
        let newReady = self.api.store.get(newKey)?[path: ["status", "readyReplicas"]]?.intValue ?? 0
        var allowance = max(0, desired - newReady)
        for old in all.filter({ $0[path: ["metadata", "name"]]?.stringValue != newName })
            .sorted(by: { ($0[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "") > ($1[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "") })
        {
            let current = old[path: ["spec", "replicas"]]?.intValue ?? 0
            let target = min(current, allowance)
            allowance -= target
            if target != current, let name = old[path: ["metadata", "name"]]?.stringValue {
                _ = try? self.api.store.update(ObjectKey(resource: .replicaSets, namespace: key.namespace, name: name)) {
                    $0[path: ["spec", "replicas"]] = .int(target)
                }
            }
        }
        self.updateStatus(key, desired: desired, newName: newName, uid: uid)
    }

    private func createReplicaSet(_ deployment: JSON, key: ObjectKey, uid: String, name: String, hash: String, replicas: Int, revision: Int) {
        var template = deployment[path: ["spec", "template"]] ?? .object([:])
        template[path: ["metadata", "labels", "pod-template-hash"]] = .string(hash)
        var selector = deployment[path: ["spec", "selector"]] ?? .object([:])
        selector[path: ["matchLabels", "pod-template-hash"]] = .string(hash)
        var labels = template[path: ["metadata", "labels"]] ?? .object([:])
        labels["pod-template-hash"] = .string(hash)
        var replicaSet: JSON = .object([
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": .object([
                "name": .string(name), "labels": labels,
                "annotations": .object([
                    "deployment.kubernetes.io/revision": .string(String(revision)),
                    "deployment.kubernetes.io/desired-replicas": .string(String(replicas)),
                ]),
                "ownerReferences": [.object([
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": .string(key.name), "uid": .string(uid),
                    "controller": true, "blockOwnerDeletion": true,
                ])],
            ]),
            "spec": .object(["replicas": .int(replicas), "selector": selector, "template": template]),
        ])
        do {
            _ = try self.api.create(object: &replicaSet, .replicaSets, namespace: key.namespace)
        } catch {
            self.logger.warning("cannot create replicaset", metadata: ["kubesim.deployment": "\(key.namespace)/\(key.name)", "error": "\(error.message)"])
        }
    }

    private func updateStatus(_ key: ObjectKey, desired: Int, newName: String, uid: String) {
        let owned = self.api.store.list(WatchFilter(resource: .replicaSets, namespace: key.namespace, labels: .everything, fields: .everything)).items
            .filter { rs in (rs[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid } }
        func sum(_ field: String) -> Int { owned.reduce(0) { $0 + ($1[path: ["status", field]]?.intValue ?? 0) } }
        let updated = owned.first { $0[path: ["metadata", "name"]]?.stringValue == newName }?[path: ["status", "replicas"]]?.intValue ?? 0
        let available = sum("availableReplicas")
        let now = Timestamp.string()
        _ = try? self.api.store.update(key) { deployment in
            let previous = deployment["status"]
            func condition(_ type: String, _ value: Bool, _ reason: String, _ message: String) -> JSON {
                let old = (previous?["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
                let status = value ? "True" : "False"
                let changed = old?["status"]?.stringValue != status || old?["reason"]?.stringValue != reason
                return .object([
                    "type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
                    "lastUpdateTime": changed ? .string(now) : old?["lastUpdateTime"] ?? .string(now),
                    "lastTransitionTime": changed ? .string(now) : old?["lastTransitionTime"] ?? .string(now),
                ])
            }
            let complete = updated == desired && sum("replicas") == desired && available == desired
            deployment["status"] = .object([
                "observedGeneration": deployment[path: ["metadata", "generation"]] ?? .int(1),
                "replicas": .int(sum("replicas")), "updatedReplicas": .int(updated), "readyReplicas": .int(sum("readyReplicas")),
                "availableReplicas": .int(available), "unavailableReplicas": .int(max(0, desired - available)),
                "conditions": [
                    condition("Available", available >= desired, available >= desired ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                              available >= desired ? "Deployment has minimum availability." : "Deployment does not have minimum availability."),
                    condition("Progressing", true, complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                              complete ? "ReplicaSet \"\(newName)\" has successfully progressed." : "ReplicaSet \"\(newName)\" is progressing."),
                ],
            ])
            if deployment[path: ["status", "readyReplicas"]] == .int(0) { deployment[path: ["status", "readyReplicas"]] = nil }
            if deployment[path: ["status", "availableReplicas"]] == .int(0) { deployment[path: ["status", "availableReplicas"]] = nil }
        }
    }
}
