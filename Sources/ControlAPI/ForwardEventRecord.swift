import Forwarding
import KubeClient
import Foundation

/// One line of the event stream (`GET /v1/events`, `kfwd status --watch -o json`): a
/// ``ForwardUpdate`` as JSON, mapped here once. Every line names the forward and carries its
/// state after the change, why, and its pods; the event's own fields follow.
public struct ForwardEventRecord: Codable, Sendable, Equatable {
    /// The forward's alias.
    public var forward: String
    /// The forward's id in the daemon, kept across its restarts.
    public var id: String
    public var time: Date
    /// `snapshot` (the state when the stream opened), `started`, `stopped`, `failed` (the run
    /// failed; a retry follows), `command`, or what the running forward reported: `listening`,
    /// `waiting`, `pods`, `api`, `kubeconfig`, `transport`, `relay`, `connection`, `routed`,
    /// `held_back`, `connection_failed`, `health`, `network`.
    public var type: String
    /// ``ForwardLifecycle/State/name`` after the change.
    public var state: String
    /// Why the forward is in that state, when it is not simply running or stopped.
    public var reason: String?
    /// ``ForwardError/Code`` of the reason.
    public var code: String?
    public var fix: String?
    /// The pods new connections go to now.
    public var pods: [String]
    /// Those of them failing their probe, with why (absent when none).
    public var failingPods: [String: String]?
    /// Seconds until the next try (retrying only).
    public var retryDelay: Double?
    /// The event's own text: an error's message, the transport, a relay or kubeconfig note, the
    /// command.
    public var message: String?
    /// The code of the event's error (`connection_failed`, `failed`, `api`, `waiting`).
    public var errorCode: String?
    /// A connection's local and remote ports, and its pod when known. A remote port given by
    /// name (`8080:http`) is `remote_name`, `remote` then absent.
    public var local: Int?
    public var remote: Int?
    public var remoteName: String?
    public var pod: String?
    /// For `health` events: whether `pod` passes its probe now (`message` says why not).
    public var healthy: Bool?
    /// For `network` events: `changed`, `unreachable` or `reestablished`.
    public var network: String?
    /// For `reestablished`: how long the cluster did not answer (zero: it answered at once).
    public var outage: Double?

    enum CodingKeys: String, CodingKey {
        case forward, id, time, type, state, reason, code, fix, pods, message, local, remote, pod, network, healthy
        case outage = "outage_seconds"
        case retryDelay = "retry_delay_seconds"
        case failingPods = "failing_pods"
        case errorCode = "error_code"
        case remoteName = "remote_name"
    }

    public init(_ update: ForwardUpdate) {
        let report = StatusReport.Forward(update.status, traffic: nil)
        self.forward = update.alias
        self.id = update.id.uuidString.lowercased()
        self.time = update.time
        self.state = report.status
        self.reason = report.reason
        self.code = report.code
        self.fix = report.fix
        self.pods = report.pods
        self.failingPods = report.failingPods.isEmpty ? nil : report.failingPods
        self.retryDelay = report.retryDelay
        switch update.change {
        case .snapshot: self.type = "snapshot"
        case .started: self.type = "started"
        case .stopped: self.type = "stopped"
        case .failed(let error):
            self.type = "failed"
            self.error(error)
        case .command(let command):
            self.type = "command"
            self.message = command.name
        case .event(let event):
            self.type = ""
            self.describe(event)
        }
    }

    private mutating func error(_ error: ForwardError) {
        self.message = error.message
        self.errorCode = error.code.rawValue
    }

    private mutating func ports(_ local: Int, _ remote: RemotePort) {
        self.local = local
        switch remote {
        case .number(let number): self.remote = number
        case .name(let name): self.remoteName = name
        }
    }

    private mutating func describe(_ event: ForwardEvent) {
        switch event {
        case .listening(let address, let local, let remote):
            self.type = "listening"
            self.message = ForwardStatus.Socket(address: address, port: local).description
            self.ports(local, remote)
        case .waiting(let local, let reason):
            self.type = "waiting"
            self.local = local
            self.error(reason)
        case .ready:
            self.type = "pods"
        case .api(let error):
            self.type = "api"
            if let error { self.error(error) }
        case .kubeconfig(_, let note):
            self.type = "kubeconfig"
            self.message = note
        case .transport(let name):
            self.type = "transport"
            self.message = name
        case .following(let note):
            self.type = "following"
            self.message = note
        case .relay(let note):
            self.type = "relay"
            self.message = note
        case .connection(let local, let remote):
            self.type = "connection"
            self.ports(local, remote)
        case .routed(let local, let pod):
            self.type = "routed"
            (self.local, self.pod) = (local, pod)
        case .heldBack(let pod):
            self.type = "held_back"
            self.pod = pod
            self.message = ForwardEvent.heldBackMessage(pod: pod)
        case .health(let pod, let failure):
            self.type = "health"
            self.pod = pod
            self.healthy = failure == nil
            self.message = failure
        case .network(let notice):
            self.type = "network"
            self.message = notice.message
            switch notice {
            case .changed: self.network = "changed"
            case .unreachable: self.network = "unreachable"
            case .reestablished(let outage, _):
                self.network = "reestablished"
                self.outage = outage.inSeconds
            }
        case .connectionFailed(let local, let remote, let error):
            self.type = "connection_failed"
            self.ports(local, remote)
            self.error(error)
        }
    }
}
