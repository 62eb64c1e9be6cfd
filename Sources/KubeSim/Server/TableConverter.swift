import KubeLabels

/// Server-side `Table` output for `kubectl get`, with the columns of
/// kubernetes/kubernetes pkg/printers/internalversion/printers.go.
enum TableConverter {
    private typealias Column = (name: String, type: String, priority: Int)

    static func table(for resource: ResourceType, objects: [JSON], resourceVersion: String) -> JSON {
        let columns = self.columns(resource)
        let definitions = columns.map { column -> JSON in
            .object([
                "name": .string(column.name), "type": .string(column.type),
                "format": column.name == "Name" ? "name" : "", "description": "", "priority": .int(column.priority),
            ])
        }
        let rows = objects.map { object -> JSON in
            var metadata = object["metadata"] ?? .object([:])
            metadata["managedFields"] = nil
            return .object([
                "cells": .array(self.cells(resource, object)),
                "object": .object(["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata]),
            ])
        }
        return .object([
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": .object(["resourceVersion": .string(resourceVersion)]),
            "columnDefinitions": .array(definitions), "rows": .array(rows),
        ])
    }

    private static func columns(_ resource: ResourceType) -> [Column] {
        switch resource {
        case .pods:
            [("Name", "string", 0), ("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0),
             ("Age", "string", 0), ("IP", "string", 1), ("Node", "string", 1), ("Nominated Node", "string", 1),
             ("Readiness Gates", "string", 1)]
        case .services:
            [("Name", "string", 0), ("Type", "string", 0), ("Cluster-IP", "string", 0), ("External-IP", "string", 0),
             ("Port(s)", "string", 0), ("Age", "string", 0), ("Selector", "string", 1)]
        case .deployments:
            [("Name", "string", 0), ("Ready", "string", 0), ("Up-to-date", "integer", 0), ("Available", "integer", 0),
             ("Age", "string", 0), ("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)]
        case .replicaSets:
            [("Name", "string", 0), ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
             ("Age", "string", 0), ("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)]
        case .endpointSlices:
            [("Name", "string", 0), ("AddressType", "string", 0), ("Ports", "string", 0), ("Endpoints", "string", 0),
             ("Age", "string", 0)]
        case .namespaces:
            [("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)]
        default:
            [("Name", "string", 0), ("Age", "string", 0)]
        }
    }

    private static func cells(_ resource: ResourceType, _ object: JSON) -> [JSON] {
        let name = JSON.string(object[path: ["metadata", "name"]]?.stringValue ?? "")
        let age = JSON.string(Timestamp.age(since: object[path: ["metadata", "creationTimestamp"]]?.stringValue))
        func int(_ path: [String]) -> JSON { .int(object[path: path]?.intValue ?? 0) }
        switch resource {
        case .pods:
            let statuses = object[path: ["status", "containerStatuses"]]?.arrayValue ?? []
            let total = object[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
            let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
            let restarts = statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
            return [
                name, .string("\(ready)/\(total)"), .string(self.podStatus(object)), .string(String(restarts)), age,
                .string(object[path: ["status", "podIP"]]?.stringValue ?? "<none>"),
                .string(object[path: ["spec", "nodeName"]]?.stringValue ?? "<none>"), "<none>", "<none>",
            ]
        case .services:
            let type = object[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
            let ports = (object[path: ["spec", "ports"]]?.arrayValue ?? []).map { port -> String in
                let number = port["port"]?.intValue ?? 0
                let proto = port["protocol"]?.stringValue ?? "TCP"
                if let nodePort = port["nodePort"]?.intValue { return "\(number):\(nodePort)/\(proto)" }
                return "\(number)/\(proto)"
            }
            let selector = object[path: ["spec", "selector"]]?.stringMap ?? [:]
            return [
                name, .string(type), .string(object[path: ["spec", "clusterIP"]]?.stringValue ?? "<none>"),
                .string(type == "ExternalName" ? object[path: ["spec", "externalName"]]?.stringValue ?? "<none>" : "<none>"),
                .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")), age,
                .string(selector.isEmpty ? "<none>" : selector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")),
            ]
        case .deployments, .replicaSets:
            let containers = object[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
            let selector = LabelSelector(object: object[path: ["spec", "selector"]]).description
            let common: [JSON] = [
                age, .string(containers.compactMap { $0["name"]?.stringValue }.joined(separator: ",")),
                .string(containers.compactMap { $0["image"]?.stringValue }.joined(separator: ",")), .string(selector),
            ]
            if resource == .deployments {
                let desired = object[path: ["spec", "replicas"]]?.intValue ?? 0
                let ready = object[path: ["status", "readyReplicas"]]?.intValue ?? 0
                return [name, .string("\(ready)/\(desired)"), int(["status", "updatedReplicas"]), int(["status", "availableReplicas"])] + common
            }
            return [name, int(["spec", "replicas"]), int(["status", "replicas"]), int(["status", "readyReplicas"])] + common
        case .endpointSlices:
            let ports = (object["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue.map(String.init) }
            let addresses = (object["endpoints"]?.arrayValue ?? []).flatMap { $0["addresses"]?.arrayValue ?? [] }.compactMap(\.stringValue)
            let shown = addresses.prefix(3).joined(separator: ",") + (addresses.count > 3 ? " + \(addresses.count - 3) more..." : "")
            return [
                name, .string(object["addressType"]?.stringValue ?? "IPv4"), .string(ports.isEmpty ? "<unset>" : ports.joined(separator: ",")),
                .string(addresses.isEmpty ? "<unset>" : shown), age,
            ]
        case .namespaces:
            return [name, .string(object[path: ["status", "phase"]]?.stringValue ?? "Active"), age]
        default:
            return [name, age]
        }
    }

    /// The STATUS column: the pod phase, overridden by a container's waiting or terminated reason,
    /// and "Terminating" while the pod is being deleted (printers.go `printPod`).
    private static func podStatus(_ pod: JSON) -> String {
        var reason = pod[path: ["status", "reason"]]?.stringValue ?? pod[path: ["status", "phase"]]?.stringValue ?? "Unknown"
        for status in pod[path: ["status", "containerStatuses"]]?.arrayValue ?? [] {
            if let waiting = status[path: ["state", "waiting", "reason"]]?.stringValue {
                reason = waiting
            } else if let terminated = status[path: ["state", "terminated", "reason"]]?.stringValue {
                reason = terminated
            }
        }
        if pod[path: ["metadata", "deletionTimestamp"]] != nil { reason = "Terminating" }
        return reason
    }
}
