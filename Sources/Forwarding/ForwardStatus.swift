import Foundation

/// What a forward is doing now, as the ``Supervisor`` knows it from the forward's own events:
/// never a guess.
public struct ForwardStatus: Sendable, Equatable {
    public enum State: Sendable, Equatable, CustomStringConvertible {
        /// Reading the kubeconfig, binding ports, syncing informers.
        case starting
        /// Listening, with at least one ready pod.
        case running
        /// Listening, but no pod can take a connection; new ones are held.
        case waiting(reason: String)
        /// Could not start; tries again after the delay.
        case retrying(reason: String, after: Duration)
        case stopped

        /// The state's one-word name, as `kfwd status --json`, the store and `/metrics` give it.
        public var name: String {
            switch self {
            case .starting: "starting"
            case .running: "running"
            case .waiting: "waiting"
            case .retrying: "retrying"
            case .stopped: "stopped"
            }
        }

        /// Every ``name``, in lifecycle order.
        public static let names = ["starting", "running", "waiting", "retrying", "stopped"]

        public var description: String {
            switch self {
            case .starting: "starting"
            case .running: "running"
            case .waiting: "waiting for pod"
            case .retrying: "retrying"
            case .stopped: "stopped"
            }
        }
    }

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
    public var state: State = .starting
    /// The pods new connections go to.
    public var pods: [String] = []
    /// The bound local sockets.
    public var listening: [Socket] = []
    /// The port-forward protocol in use, once the API server accepted one.
    public var transport: String?
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
    /// The pods of the last `ready` with any, to tell a move from the first choice.
    private var lastReadyPods: [String]?
    public var lastError: String?
    /// What the forward made of the last change of its kubeconfig on disk (followed, or not
    /// usable), as the user should read it.
    public var kubeconfigNote: String?
    /// Why the API server cannot be reached now; nil while it can. The forward keeps its
    /// listeners and open connections meanwhile.
    public var apiError: String?
    private var waitingReason: String?
    /// When `state` last changed.
    public var since = Date()

    public init(alias: String) {
        self.alias = alias
    }

    /// Folds one of the forward's events in.
    mutating func apply(_ event: ForwardEvent) {
        switch event {
        case .listening(let address, let local, _):
            self.listening.append(Socket(address: address, port: local))
        case .waiting(_, let reason):
            // Also said for one held connection while other pods may come back; the state
            // follows `ready`, which the forward reports whenever its pods change.
            self.waitingReason = reason
        case .ready(let pods):
            self.pods = pods
            if !pods.isEmpty {
                if let last = self.lastReadyPods, last != pods { self.reconnects += 1 }
                self.lastReadyPods = pods
            }
            self.enter(pods.isEmpty ? .waiting(reason: self.waitingReason ?? "no ready pod") : .running)
        case .api(let error):
            self.apiError = error
        case .kubeconfig(_, let message):
            self.kubeconfigNote = message
        case .transport(let name):
            self.transport = name
        case .relay(let message):
            self.relayNote = message
        case .connection:
            self.connections += 1
        case .heldBack(let pod):
            self.heldBack += 1
            self.heldBackPod = pod
        case .routed:
            break
        case .connectionFailed(_, _, let error):
            self.failedConnections += 1
            self.lastError = error.message
        }
    }

    mutating func enter(_ state: State) {
        guard state != self.state else { return }
        self.state = state
        self.since = Date()
    }
}
