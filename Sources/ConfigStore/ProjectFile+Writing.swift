import Foundation
import Yams

extension ProjectFile {
    /// A commented `kfwd.yaml` holding `forwards`, what `kfwd init` writes.
    public static func text(for forwards: [Forward], source: String) -> String {
        var lines = [
            "# kfwd.yaml: this repository's forwards (\(source)).",
            "# `kfwd up` anywhere in the repository runs them and follows edits to this file.",
            "# Each forward: alias, target (svc/, deploy/, pod/, host/, ip/) or selector, ports ([LOCAL:]REMOTE),",
            "# and optionally namespace, context (or current), kubeconfig, address (auto: its own 127.x address),",
            "# udp, sticky, pod_wait_seconds, transport, tags, probe, probe_interval_seconds, hostnames.",
            "# defaults gives context, namespace and kubeconfig to the forwards that name none.",
        ]
        let namespaces = Set(forwards.map { $0.config.namespace ?? "" })
        let shared = namespaces.count == 1 ? namespaces.first.flatMap { $0.isEmpty ? nil : $0 } : nil
        if let shared { lines.append("defaults: {namespace: \(Self.scalar(shared))}") }
        lines.append(forwards.isEmpty ? "forwards: []" : "forwards:")
        for forward in forwards {
            let config = forward.config
            var fields: [(String, String)] = [("alias", Self.scalar(forward.alias))]
            if let target = config.target { fields.append(("target", Self.scalar(target))) }
            if let selector = config.selector { fields.append(("selector", Self.scalar(selector))) }
            fields.append(("ports", "[" + config.ports.map { "\"\($0)\"" }.joined(separator: ", ") + "]"))
            if let namespace = config.namespace, shared == nil { fields.append(("namespace", Self.scalar(namespace))) }
            if let context = config.context { fields.append(("context", Self.scalar(context))) }
            if let address = config.address { fields.append(("address", Self.scalar(address))) }
            if config.udp { fields.append(("udp", "true")) }
            if config.sticky { fields.append(("sticky", "true")) }
            if let transport = config.transport { fields.append(("transport", Self.scalar(transport))) }
            if !config.tags.isEmpty { fields.append(("tags", "[" + config.tags.map(Self.scalar).joined(separator: ", ") + "]")) }
            if let probe = config.probe { fields.append(("probe", Self.scalar(probe))) }
            if !config.hostnames.isEmpty { fields.append(("hostnames", "[" + config.hostnames.map(Self.scalar).joined(separator: ", ") + "]")) }
            lines.append("- " + fields.map { "\($0.0): \($0.1)" }.joined(separator: "\n  "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML scalar as Yams writes one, quoted when it must be.
    private static func scalar(_ text: String) -> String {
        ((try? Yams.serialize(node: .scalar(.init(text)))) ?? "'\(text)'").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
