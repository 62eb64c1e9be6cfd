import Foundation
import KubeLabels
import Logging

/// Publishes the pods behind each Service with a selector as EndpointSlices
/// (pkg/controller/endpointslice): pods with an IP that match the selector, grouped by the
/// container ports the Service's ports resolve to, with `ready` / `serving` / `terminating`
/// following each pod (kubernetes/api discovery/v1/types.go).
struct EndpointSliceController: Sendable {
    static let managedBy = "endpointslice-controller.k8s.io"

    let api: ClusterAPI
    let logger: Logger

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for resource in [ResourceType.services, .pods] {
                group.addTask {
                    let filter = WatchFilter(resource: resource, namespace: nil, labels: .everything, fields: .everything)
                    for await event in ControllerEvents(store: self.api.store, filter: filter) {
                        let namespace = event.object[path: ["metadata", "namespace"]]?.stringValue ?? ""
                        if resource == .services {
                            self.reconcile(namespace: namespace, service: event.object[path: ["metadata", "name"]]?.stringValue ?? "")
                        } else {
                            self.reconcileAll(namespace: namespace)
                        }
                    }
                }
            }
        }
    }

    private func reconcileAll(namespace: String) {
        let filter = WatchFilter(resource: .services, namespace: namespace, labels: .everything, fields: .everything)
        for service in self.api.store.list(filter).items {
            self.reconcile(namespace: namespace, service: service[path: ["metadata", "name"]]?.stringValue ?? "")
        }
    }

    private func reconcile(namespace: String, service name: String) {
        let existing = self.api.store.list(WatchFilter(
            resource: .endpointSlices, namespace: namespace,
            labels: LabelSelector(matchLabels: ["kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": Self.managedBy]),
            fields: .everything
        )).items
        guard let service = self.api.store.get(ObjectKey(resource: .services, namespace: namespace, name: name)),
            let selector = service[path: ["spec", "selector"]]?.stringMap, !selector.isEmpty
        else {
            for slice in existing { self.delete(slice, namespace: namespace) }
            return
        }
        let pods = self.api.store.list(WatchFilter(
            resource: .pods, namespace: namespace, labels: LabelSelector(matchLabels: selector), fields: .everything
        )).items.filter { pod in
            let phase = pod[path: ["status", "phase"]]?.stringValue
            return !(pod[path: ["status", "podIP"]]?.stringValue ?? "").isEmpty && phase != "Succeeded" && phase != "Failed"
        }
        let publishNotReady = service[path: ["spec", "publishNotReadyAddresses"]]?.boolValue ?? false
        var groups: [JSON: [JSON]] = [:]
        for pod in pods {
            guard let ports = Self.ports(service, pod) else { continue }
            groups[ports, default: []].append(Self.endpoint(pod, publishNotReady: publishNotReady))
        }
        if groups.isEmpty { groups[Self.ports(service, nil) ?? .array([])] = [] }
        var unused = existing
        for (ports, endpoints) in groups.sorted(by: { $0.key.encodedString() < $1.key.encodedString() }) {
            if let index = unused.firstIndex(where: { $0["ports"] == ports }) {
                let slice = unused.remove(at: index)
                let key = ObjectKey(resource: .endpointSlices, namespace: namespace, name: slice[path: ["metadata", "name"]]?.stringValue ?? "")
                _ = try? self.api.store.update(key) { $0["endpoints"] = .array(endpoints) }
            } else {
                self.create(service, namespace: namespace, ports: ports, endpoints: endpoints)
            }
        }
        for slice in unused { self.delete(slice, namespace: namespace) }
    }

    private func create(_ service: JSON, namespace: String, ports: JSON, endpoints: [JSON]) {
        let name = service[path: ["metadata", "name"]]?.stringValue ?? ""
        var slice: JSON = .object([
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": .object([
                "generateName": .string("\(name)-"),
                "labels": .from(["kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": Self.managedBy]),
                "ownerReferences": [.object([
                    "apiVersion": "v1", "kind": "Service", "name": .string(name),
                    "uid": service[path: ["metadata", "uid"]] ?? "", "controller": true, "blockOwnerDeletion": true,
                ])],
            ]),
            "addressType": "IPv4", "endpoints": .array(endpoints), "ports": ports,
        ])
        do {
            _ = try self.api.create(object: &slice, .endpointSlices, namespace: namespace)
        } catch {
            self.logger.warning("cannot create endpointslice", metadata: ["kubesim.service": "\(namespace)/\(name)", "error": "\(error.message)"])
        }
    }

    private func delete(_ slice: JSON, namespace: String) {
        let key = ObjectKey(resource: .endpointSlices, namespace: namespace, name: slice[path: ["metadata", "name"]]?.stringValue ?? "")
        _ = try? self.api.store.delete(key)
    }

    /// The slice ports for one pod: each Service port's `targetPort`, a name resolved through the
    /// pod's container ports. Nil when a named port does not exist on the pod (the pod is skipped).
    private static func ports(_ service: JSON, _ pod: JSON?) -> JSON? {
        var result: [JSON] = []
        for port in service[path: ["spec", "ports"]]?.arrayValue ?? [] {
            let target: Int?
            switch port["targetPort"] {
            case .number(let number): target = Int(number)
            case .string(let name):
                if let number = Int(name) {
                    target = number
                } else {
                    guard let pod else { continue }
                    target = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).flatMap { $0["ports"]?.arrayValue ?? [] }
                        .first { $0["name"]?.stringValue == name }?["containerPort"]?.intValue
                    if target == nil { return nil }
                }
            default: target = port["port"]?.intValue
            }
            result.append(.object([
                "name": port["name"] ?? "", "protocol": port["protocol"] ?? "TCP", "port": target.map { .int($0) } ?? .null,
            ]))
        }
        return .array(result)
    }

    private static func endpoint(_ pod: JSON, publishNotReady: Bool) -> JSON {
        let serving = ReplicaSetController.isReady(pod)
        let terminating = pod[path: ["metadata", "deletionTimestamp"]] != nil
        return .object([
            "addresses": [pod[path: ["status", "podIP"]] ?? ""],
            "conditions": .object([
                "ready": .bool(publishNotReady || (serving && !terminating)), "serving": .bool(serving), "terminating": .bool(terminating),
            ]),
            "nodeName": pod[path: ["spec", "nodeName"]] ?? .string(Kubelet.nodeName),
            "targetRef": .object([
                "kind": "Pod", "namespace": pod[path: ["metadata", "namespace"]] ?? "", "name": pod[path: ["metadata", "name"]] ?? "",
                "uid": pod[path: ["metadata", "uid"]] ?? "",
            ]),
        ])
    }
}
