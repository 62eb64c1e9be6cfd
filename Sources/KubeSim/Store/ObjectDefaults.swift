import Foundation
import KubeLabels

/// What the apiserver's defaulting and create strategies add to a new object, and the validation
/// KubeSim enforces (a subset of pkg/apis/*/validation, for the fields that shape behaviour).
struct ObjectDefaults {
    var allocateClusterIP: () -> String

    func prepareForCreate(_ object: inout JSON, resource: ResourceType, namespace: String?) throws(APIError) {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        object[path: ["metadata", "uid"]] = .string(UUID().uuidString.lowercased())
        object[path: ["metadata", "creationTimestamp"]] = .string(Timestamp.string())
        object["apiVersion"] = .string(resource.groupVersion)
        object["kind"] = .string(resource.kind)
        if let namespace { object[path: ["metadata", "namespace"]] = .string(namespace) }
        object[path: ["metadata", "deletionTimestamp"]] = nil
        switch resource {
        case .pods:
            object[path: ["metadata", "generation"]] = .int(1)
            try self.defaultPodSpec(&object, path: ["spec"], name: name, resource: resource)
            object["status"] = .object(["phase": "Pending", "qosClass": "BestEffort"])
        case .services:
            try self.defaultService(&object, name: name)
        case .deployments:
            object[path: ["metadata", "generation"]] = .int(1)
            try self.defaultDeployment(&object, name: name)
            object["status"] = .object([:])
        case .namespaces:
            object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
            object["spec"] = .object(["finalizers": ["kubernetes"]])
            object["status"] = .object(["phase": "Active"])
        default:
            break
        }
    }

    func defaultPodSpec(_ object: inout JSON, path: [String], name: String, resource: ResourceType) throws(APIError) {
        var spec = object[path: path] ?? .object([:])
        guard let containers = spec["containers"]?.arrayValue, !containers.isEmpty else {
            throw APIError.invalid(resource, name, field: (path + ["containers"]).joined(separator: "."), "Required value")
        }
        spec["containers"] = .array(try containers.enumerated().map { index, container throws(APIError) in
            var container = container
            guard container["name"]?.stringValue?.isEmpty == false else {
                throw APIError.invalid(resource, name, field: "\(path.joined(separator: ".")).containers[\(index)].name", "Required value")
            }
            if container["image"] == nil {
                throw APIError.invalid(resource, name, field: "\(path.joined(separator: ".")).containers[\(index)].image", "Required value")
            }
            if let ports = container["ports"]?.arrayValue {
                container["ports"] = .array(ports.map { port in
                    var port = port
                    if port["protocol"] == nil { port["protocol"] = "TCP" }
                    return port
                })
            }
            if container["imagePullPolicy"] == nil { container["imagePullPolicy"] = "IfNotPresent" }
            if container["terminationMessagePath"] == nil { container["terminationMessagePath"] = "/dev/termination-log" }
            if container["terminationMessagePolicy"] == nil { container["terminationMessagePolicy"] = "File" }
            if container["resources"] == nil { container["resources"] = .object([:]) }
            return container
        })
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = .int(30) }
        if spec["dnsPolicy"] == nil { spec["dnsPolicy"] = "ClusterFirst" }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
        if spec["securityContext"] == nil { spec["securityContext"] = .object([:]) }
        if spec["enableServiceLinks"] == nil { spec["enableServiceLinks"] = true }
        object[path: path] = spec
    }

    private func defaultService(_ object: inout JSON, name: String) throws(APIError) {
        var spec = object["spec"] ?? .object([:])
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        spec["type"] = .string(type)
        let ports = spec["ports"]?.arrayValue ?? []
        if ports.isEmpty && type != "ExternalName" && spec["clusterIP"]?.stringValue != "None" {
            throw APIError.invalid(.services, name, field: "spec.ports", "Required value")
        }
        var seen = Set<String>()
        spec["ports"] = .array(try ports.enumerated().map { index, port throws(APIError) in
            var port = port
            guard let number = port["port"]?.intValue, (1...65535).contains(number) else {
                throw APIError.invalid(.services, name, field: "spec.ports[\(index)].port", "must be between 1 and 65535, inclusive")
            }
            let portName = port["name"]?.stringValue ?? ""
            if ports.count > 1 && portName.isEmpty {
                throw APIError.invalid(.services, name, field: "spec.ports[\(index)].name", "Required value")
            }
            if !seen.insert(portName).inserted {
                throw APIError.invalid(.services, name, field: "spec.ports[\(index)].name", "Duplicate value: \"\(portName)\"")
            }
            if port["protocol"] == nil { port["protocol"] = "TCP" }
            if port["targetPort"] == nil || port["targetPort"] == .number(0) { port["targetPort"] = .int(number) }
            return port
        })
        if type != "ExternalName" {
            let clusterIP = spec["clusterIP"]?.stringValue ?? ""
            let ip = clusterIP.isEmpty ? self.allocateClusterIP() : clusterIP
            spec["clusterIP"] = .string(ip)
            spec["clusterIPs"] = [.string(ip)]
            spec["ipFamilies"] = ["IPv4"]
            spec["ipFamilyPolicy"] = "SingleStack"
            spec["internalTrafficPolicy"] = "Cluster"
        }
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
        object["spec"] = spec
        object["status"] = .object(["loadBalancer": .object([:])])
    }

    private func defaultDeployment(_ object: inout JSON, name: String) throws(APIError) {
        var spec = object["spec"] ?? .object([:])
        if spec["replicas"] == nil { spec["replicas"] = .int(1) }
        if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = .int(10) }
        if spec["progressDeadlineSeconds"] == nil { spec["progressDeadlineSeconds"] = .int(600) }
        if spec["strategy"] == nil {
            spec["strategy"] = .object(["type": "RollingUpdate", "rollingUpdate": .object(["maxSurge": "25%", "maxUnavailable": "25%"])])
        }
        object["spec"] = spec
        let selector = LabelSelector(object: spec["selector"])
        if selector.requirements.isEmpty {
            throw APIError.invalid(.deployments, name, field: "spec.selector", "Required value")
        }
        let templateLabels = spec[path: ["template", "metadata", "labels"]]?.stringMap ?? [:]
        if !selector.matches(templateLabels) {
            throw APIError.invalid(
                .deployments, name, field: "spec.template.metadata.labels",
                "Invalid value: \(JSON.from(templateLabels).encodedString()): `selector` does not match template `labels`"
            )
        }
        try self.defaultPodSpec(&object, path: ["spec", "template", "spec"], name: name, resource: .deployments)
    }
}
