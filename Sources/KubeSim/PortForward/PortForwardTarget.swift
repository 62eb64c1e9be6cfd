import Foundation
import NIOCore
import NIOPosix
import SPDY

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
}

/// What a port-forward WebSocket carries: the channel protocol, or SPDY in a tunnel.
enum WebSocketPortForwardProtocol: Sendable, Equatable {
    case channels(PortForwardFraming)
    /// `SPDY/3.1+portforward.k8s.io`: SPDY frames in binary messages (wire doc section 3).
    case spdyTunnel

    /// The handshake. With the `PortForwardWebsockets` gate on (`tunnel`), the apiserver first
    /// looks for a `SPDY/3.1+….k8s.io` protocol and tunnels (apiserver util/proxy/
    /// streamtunnel.go), and the kubelet accepts only `portforward.k8s.io` behind the prefix.
    /// Otherwise the kubelet's (cri-streaming portforward/websocket.go, wsstream/conn.go): the
    /// first offered protocol it supports; binary channels when none is offered; nil (403) when
    /// none match. `channel.k8s.io` and `v5.channel.k8s.io` are for exec and attach.
    /// `headerValues` are the values of every `Sec-WebSocket-Protocol` header, each possibly a
    /// comma-separated list.
    static func negotiate(_ headerValues: [String], tunnel: Bool) -> (protocol: WebSocketPortForwardProtocol, echo: String?)? {
        let offered = headerValues.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if offered.isEmpty { return (.channels(.binary), nil) }
        if tunnel, offered.contains(where: { $0.hasPrefix("SPDY/3.1+") && $0.hasSuffix(".k8s.io") }) {
            return offered.contains(PortForwardSPDY.tunnelSubprotocol) ? (.spdyTunnel, PortForwardSPDY.tunnelSubprotocol) : nil
        }
        for name in offered {
            switch name {
            case PortForwardFraming.binary.name: return (.channels(.binary), name)
            case PortForwardFraming.base64.name: return (.channels(.base64), name)
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

    /// The text a runtime puts on the error stream when it cannot reach the pod's port
    /// (containerd's wording; the exact runtime text is not specified, wire doc appendix B).
    func dialFailure(port: Int, reason: String) -> String {
        "error forwarding port \(port) to pod \(self.uid), uid : failed to execute portforward in network namespace "
            + "\"/var/run/netns/cni-\(self.uid)\": failed to connect to localhost:\(port) inside namespace \"\(self.uid)\", "
            + "IPv4: \(reason) IPv6 dial tcp6: address localhost: no suitable address found "
    }

    /// A failed connect in Go's words (`connect: connection refused`), as containerd's error
    /// text carries it: clients match on that wording, not on NIO's.
    static func goDialError(_ error: any Error) -> String {
        let io = (error as? NIOConnectionError)?.connectionErrors.first?.error as? IOError ?? error as? IOError
        guard let code = io?.errnoCode else { return "connect: \(error)" }
        if code == ETIMEDOUT { return "i/o timeout" }
        return "connect: " + String(cString: strerror(code)).lowercased()
    }
}

extension ClusterAPI {
    /// Resolves `pods/{name}/portforward`: 404 for a missing pod; 400 for a pod without a node
    /// (pkg/registry/core/pod/strategy.go `PortForwardLocation`), for a pod that is not running
    /// (the runtime has no sandbox to dial into) and for a request without ports (the kubelet's
    /// `query parameter "port" is required`). Ports may repeat or be comma-joined, each a uint16
    /// (apimachinery `Convert_Slice_string_To_Slice_int32`).
    /// SPDY (plain or tunnelled) names its ports in stream headers instead (`portsInQuery` false).
    func portForwardTarget(
        namespace: String, pod name: String, queryItems: [(name: String, value: String)], portsInQuery: Bool = true
    ) throws(APIError) -> PortForwardTarget {
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
        if ports.isEmpty, portsInQuery { throw APIError.badRequest("query parameter \"port\" is required") }
        return PortForwardTarget(namespace: namespace, pod: name, uid: pod[path: ["metadata", "uid"]]?.stringValue ?? "", ports: ports)
    }

    private static func hasRunningContainer(_ pod: JSON) -> Bool {
        (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []).contains { $0[path: ["state", "running"]] != nil }
    }

    /// A port-forward request that reached the REST layer was not upgraded: say why, as the
    /// layer that refused it would.
    func portForwardNotUpgraded(_ request: APIRequest, namespace: String, pod: String, tunnel: Bool) throws(APIError) -> APIResponse {
        let upgrade = request.header("Upgrade")?.lowercased() ?? ""
        let offered = request.headers.filter { $0.name.lowercased() == "sec-websocket-protocol" }.map(\.value)
        let negotiated = WebSocketPortForwardProtocol.negotiate(offered, tunnel: tunnel)
        let isSPDY = upgrade.contains("spdy/3.1") || (upgrade == "websocket" && negotiated?.protocol == .spdyTunnel)
        _ = try self.portForwardTarget(namespace: namespace, pod: pod, queryItems: request.queryItems, portsInQuery: !isSPDY)
        if upgrade == "websocket" {
            // golang.org/x/net/websocket answers an unsupported subprotocol with an empty 403.
            if negotiated == nil { return .plain(status: 403, text: "") }
        }
        if upgrade.contains("spdy/3.1") {
            // The kubelet's handshake (httpstream.Handshake), reached when the upgrade could not
            // be served.
            let versions = request.headers.filter { $0.name.lowercased() == "x-stream-protocol-version" }
                .flatMap { $0.value.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            if versions.isEmpty {
                return .plain(status: 400, text: "unable to upgrade: unable to negotiate protocol: X-Stream-Protocol-Version is required\n")
            }
            if !versions.contains(PortForwardSPDY.streamProtocol) {
                return .plain(
                    status: 403, text: "unable to upgrade: unable to negotiate protocol: client supports \(versions), server accepts [\"\(PortForwardSPDY.streamProtocol)\"]\n",
                    headers: [("X-Accepted-Stream-Protocol-Versions", PortForwardSPDY.streamProtocol)]
                )
            }
        }
        throw APIError.badRequest("unable to upgrade connection: missing upgrade headers in request")
    }
}
