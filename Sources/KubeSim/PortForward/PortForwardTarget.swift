import Foundation

/// The framing a port-forward WebSocket speaks, chosen from the client's subprotocols.
enum PortForwardFraming: Sendable, Equatable {
    /// `v4.channel.k8s.io`, or no subprotocol at all: binary messages.
    case binary
    /// `v4.base64.channel.k8s.io`: text messages, `'0' + channel` then base64.
    case base64

    /// The subprotocol to echo (nil when the client offered none).
    var name: String {
        switch self {
        case .binary: "v4.channel.k8s.io"
        case .base64: "v4.base64.channel.k8s.io"
        }
    }

    /// The kubelet's handshake (cri-streaming portforward/websocket.go, wsstream/conn.go): the
    /// first offered protocol it supports; binary when none is offered; nil (403) when none match.
    /// `channel.k8s.io` and `v5.channel.k8s.io` are for exec and attach, not port-forward.
    /// `headerValues` are the values of every `Sec-WebSocket-Protocol` header, each possibly a
    /// comma-separated list.
    static func negotiate(_ headerValues: [String]) -> (framing: PortForwardFraming, echo: String?)? {
        let offered = headerValues.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if offered.isEmpty { return (.binary, nil) }
        for name in offered {
            switch name {
            case "v4.channel.k8s.io": return (.binary, name)
            case "v4.base64.channel.k8s.io": return (.base64, name)
            default: continue
            }
        }
        return nil
    }
}

/// A pod and the ports a port-forward request asks for, checked as the apiserver and the kubelet
/// check them.
struct PortForwardTarget: Sendable {
    let namespace: String
    let pod: String
    let uid: String
    let ports: [Int]
}

extension ClusterAPI {
    /// Resolves `pods/{name}/portforward`: 404 for a missing pod; 400 for a pod without a node
    /// (pkg/registry/core/pod/strategy.go `PortForwardLocation`), for a pod that is not running
    /// (the runtime has no sandbox to dial into) and for a request without ports (the kubelet's
    /// `query parameter "port" is required`). Ports may repeat or be comma-joined, each a uint16
    /// (apimachinery `Convert_Slice_string_To_Slice_int32`).
    func portForwardTarget(namespace: String, pod name: String, queryItems: [(name: String, value: String)]) throws(APIError) -> PortForwardTarget {
        guard let pod = self.store.get(ObjectKey(resource: .pods, namespace: namespace, name: name)) else {
            throw APIError.notFound(.pods, name)
        }
        if (pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty {
            throw APIError.badRequest("pod \(name) does not have a host assigned")
        }
        let phase = pod[path: ["status", "phase"]]?.stringValue ?? "Pending"
        if phase != "Running" || pod[path: ["metadata", "deletionTimestamp"]] != nil && !Self.hasRunningContainer(pod) {
            throw APIError.badRequest("unable to forward to pod \(name): pod is not running (phase \(phase))")
        }
        var ports: [Int] = []
        for item in queryItems where item.name == "ports" || item.name == "port" {
            for piece in item.value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let port = UInt16(piece.trimmingCharacters(in: .whitespaces)), port > 0 else {
                    throw APIError.badRequest("invalid port \"\(piece)\": ports must be integers from 1 to 65535")
                }
                ports.append(Int(port))
            }
        }
        if ports.isEmpty { throw APIError.badRequest("query parameter \"port\" is required") }
        return PortForwardTarget(namespace: namespace, pod: name, uid: pod[path: ["metadata", "uid"]]?.stringValue ?? "", ports: ports)
    }

    private static func hasRunningContainer(_ pod: JSON) -> Bool {
        (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []).contains { $0[path: ["state", "running"]] != nil }
    }

    /// A port-forward request that reached the REST layer was not upgraded: say why.
    func portForwardNotUpgraded(_ request: APIRequest, namespace: String, pod: String) throws(APIError) -> APIResponse {
        _ = try self.portForwardTarget(namespace: namespace, pod: pod, queryItems: request.queryItems)
        if request.header("Upgrade")?.lowercased() == "websocket" {
            let offered = request.headers.filter { $0.name.lowercased() == "sec-websocket-protocol" }.map(\.value)
            // golang.org/x/net/websocket answers an unsupported subprotocol with an empty 403.
            if PortForwardFraming.negotiate(offered) == nil { return .plain(status: 403, text: "") }
        }
        throw APIError.badRequest("unable to upgrade connection: missing upgrade headers in request")
    }
}
