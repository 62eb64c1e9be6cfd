import Foundation
import KubeLabels
import Logging

/// Keeps each ReplicaSet's number of live pods at `spec.replicas`
/// (pkg/controller/replicaset/replica_set.go): creates pods from the template, deletes the
/// surplus (not-ready and newest first), replaces pods that are deleted, reports status.
struct ReplicaSetController: Sendable {
    let api: ClusterAPI
    let logger: Logger

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for resource in [ResourceType.replicaSets, .pods] {
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
        if resource == .replicaSets {
            if event.kind != .deleted, let name = event.object[path: ["metadata", "name"]]?.stringValue {
                self.reconcile(ObjectKey(resource: .replicaSets, namespace: namespace, name: name))
            }
            return
        }
        for owner in event.object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
        where owner["kind"]?.stringValue == "ReplicaSet" && owner["controller"]?.boolValue == true {
            if let name = owner["name"]?.stringValue {
                self.reconcile(ObjectKey(resource: .replicaSets, namespace: namespace, name: name))
            }
        }
    }

    private func reconcile(_ key: ObjectKey) {
        guard let replicaSet = self.api.store.get(key), replicaSet[path: ["metadata", "deletionTimestamp"]] == nil,
            let uid = replicaSet[path: ["metadata", "uid"]]?.stringValue
        else { return }
        let desired = replicaSet[path: ["spec", "replicas"]]?.intValue ?? 1
        let filter = WatchFilter(
            resource: .pods, namespace: key.namespace, labels: LabelSelector(object: replicaSet[path: ["spec", "selector"]]),
            fields: .everything
        )
        let owned = self.api.store.list(filter).items.filter { pod in
            (pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid }
        }
        let active = owned.filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }
        if active.count < desired {
            for _ in active.count..<desired { self.createPod(for: replicaSet, key: key, uid: uid) }
        } else if active.count > desired {
            let victims = active.sorted { a, b in
                let readyA = Self.isReady(a), readyB = Self.isReady(b)
                if readyA != readyB { return !readyA }
                return (a[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "") > (b[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "")
            }.prefix(active.count - desired)
            for pod in victims {
                let podKey = ObjectKey(resource: .pods, namespace: key.namespace, name: pod[path: ["metadata", "name"]]?.stringValue ?? "")
                _ = try? self.api.delete(podKey, gracePeriod: ClusterAPI.podGracePeriod(requested: nil, pod: pod))
            }
        }
        let current = self.api.store.list(filter).items.filter { pod in
            (pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid }
                && pod[path: ["metadata", "deletionTimestamp"]] == nil
        }
        let ready = current.filter(Self.isReady).count
        _ = try? self.api.store.update(key) { replicaSet in
            replicaSet["status"] = .object([
                "replicas": .int(current.count), "fullyLabeledReplicas": .int(current.count), "readyReplicas": .int(ready),
                "availableReplicas": .int(ready), "observedGeneration": replicaSet[path: ["metadata", "generation"]] ?? .int(1),
            ])
        }
    }

    static func isReady(_ pod: JSON) -> Bool {
        (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    private func createPod(for replicaSet: JSON, key: ObjectKey, uid: String) {
        var pod: JSON = .object([
            "apiVersion": "v1", "kind": "Pod",
            "metadata": replicaSet[path: ["spec", "template", "metadata"]] ?? .object([:]),
            "spec": replicaSet[path: ["spec", "template", "spec"]] ?? .object([:]),
        ])
        pod[path: ["metadata", "name"]] = nil
        pod[path: ["metadata", "generateName"]] = .string("\(key.name)-")
        pod[path: ["metadata", "ownerReferences"]] = [.object([
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": .string(key.name), "uid": .string(uid),
            "controller": true, "blockOwnerDeletion": true,
        ])]
        do {
            _ = try self.api.create(object: &pod, .pods, namespace: key.namespace)
        } catch {
            self.logger.warning("cannot create pod", metadata: ["kubesim.replicaset": "\(key.namespace)/\(key.name)", "error": "\(error.message)"])
        }
    }
}
