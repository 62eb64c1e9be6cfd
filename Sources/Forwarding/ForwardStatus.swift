import Foundation

/// What a forward is doing now, as the ``Supervisor`` knows it from the forward's own events:
/// never a guess.
public struct ForwardStatus: Sendable, Equatable {
    /// A bound local socket.
    public struct Socket: Sendable, Hashable, CustomStringConvertible {
        public let address: String
        public let port: Int

        public init(address: String, port: Int) {
            self.address = address
            self.port = port
        }

        /// `address:port`, an IPv6 address in brackets.
        public var description: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }
    }

    public let alias: String
    /// Where the forward is in its lifecycle, with why (``ForwardLifecycle/State/reason``).
    public var lifecycle = ForwardLifecycle()
    /// The bound local sockets.
    public var listening: [Socket] = []
    /// The port-forward protocol in use, once the API server accepted one.
    public var transport: String?
    /// How the forward follows its pods when its rights allow no watch (``ForwardEvent/following(_:)``).
    public var followNote: String?
    /// The last thing the forward's relay did (deploying, ready, lost and redeploying), for
    /// UDP and address forwards.
    public var relayNote: String?
    public var connections = 0
    public var failedConnections = 0
    /// Times a local connection stopped reading and held back its pod's SPDY session, and the
    /// pod of the last one.
    public var heldBack = 0
    public var heldBackPod: String?
    /// Failed start attempts since the forward was started.
    public var retries = 0
    /// Times new connections moved to another set of ready pods after the first (a pod was
    /// deleted, evicted or replaced by a rollout), plus failed starts tried again.
    public var reconnects = 0
    /// The pods of the last report with any, to tell a move from the first choice.
    private var lastReadyPods: [String]?
    /// The last failure (of a connection, or of a run) since the forward was last healthy:
    /// cleared when it runs with ready pods again (the event stream and the log keep it).
    public var lastError: ForwardError?
    /// The last thing the network watch said about the forward's cluster (a change, an outage,
    /// connections re-established).
    public var networkNote: String?
    /// What the forward made of the last change of its kubeconfig on disk (followed, or not
    /// usable), as the user should read it.
    public var kubeconfigNote: String?
    /// Why no pod can be chosen, from the last ``ForwardEvent/waiting(local:reason:)``, for the
    /// next empty pod set.
    private var waitingReason: ForwardError?
    /// When the state's name last changed.
    public var since = Date()

    public init(alias: String) {
        self.alias = alias
    }

    /// The lifecycle's state.
    public var state: ForwardLifecycle.State { self.lifecycle.state }

    /// The pods new connections go to now.
    public var pods: [String] { self.state.pods }

    /// The pods in use that fail their probe, with why.
    public var failingPods: [String: String] {
        guard case .serving(let serving) = self.state else { return [:] }
        return serving.failing.filter { serving.pods.contains($0.key) }
    }

    /// Why the API server cannot be reached now; nil while it can (or before the first list).
    public var apiError: ForwardError? {
        switch self.state {
        case .serving(let serving): serving.apiError
        case .starting(let blocked): blocked
        default: nil
        }
    }

    /// Folds one of the forward's events in.
    mutating func apply(_ event: ForwardEvent) {
        self.changing { status in
            switch event {
            case .listening(let address, let local, _):
                status.listening.append(Socket(address: address, port: local))
            case .waiting(_, let reason):
                // Also said for one held connection while other pods may come back; the state
                // follows `ready`, which the forward reports whenever its pods change.
                status.waitingReason = reason
            case .ready(let pods):
                if !pods.isEmpty {
                    if let last = status.lastReadyPods, last != pods { status.reconnects += 1 }
                    status.lastReadyPods = pods
                }
                status.lifecycle.podsChanged(pods, reason: status.waitingReason)
            case .api(let error):
                status.lifecycle.apiChanged(error)
            case .kubeconfig(_, let message):
                status.kubeconfigNote = message
            case .transport(let name):
                status.transport = name
            case .following(let note):
                status.followNote = note
            case .relay(let message):
                status.relayNote = message
            case .connection:
                status.connections += 1
            case .heldBack(let pod):
                status.heldBack += 1
                status.heldBackPod = pod
            case .health(let pod, let failure):
                status.lifecycle.healthChanged(pod: pod, failure: failure)
            case .network(let notice):
                status.networkNote = notice.message
                // The probe knows of an outage before a hung watch does, and of its end.
                switch notice {
                case .unreachable(let error, _, _) where status.apiError == nil:
                    status.lifecycle.apiChanged(ForwardError(code: .clusterUnreachable, "the API server cannot be reached after a network change: \(error)"))
                case .reestablished where status.apiError?.code == .clusterUnreachable:
                    status.lifecycle.apiChanged(nil)
                default:
                    break
                }
            case .routed:
                break
            case .connectionFailed(_, _, let error):
                status.failedConnections += 1
                status.lastError = error
            }
        }
    }

    /// Runs `change`, then keeps ``since`` and ``lastError`` true to the state it moved to: an
    /// error is cleared once the forward is healthy again.
    mutating func changing<T>(_ change: (inout ForwardStatus) -> T) -> T {
        let before = self.state.name
        let result = change(&self)
        if self.state.name != before {
            self.since = Date()
            if self.state.isHealthy { self.lastError = nil }
        }
        return result
    }
}
