/// The lifecycle of one supervised forward, as a value: events go in as mutating calls, each
/// returning what the runner must do; nothing here does I/O. The ``Supervisor`` keeps one per
/// forward under its lock and drives it from the forward's run, its retries and the commands
/// it is sent (stop, restart, reload).
///
/// ```
///            start/restart            pods reported          pods empty / API down
///  stopped ───────────────▶ starting ───────────────▶ serving ◀──────────────────▶ (waiting, degraded)
///     ▲                        │  ▲                       │
///     │ run ended, stop asked  │  │ retry due             │ run failed
///     │                        ▼  │                       ▼
///     └────────────────── stopping ◀── stop/restart ── retrying(error, attempt, delay)
/// ```
public struct ForwardLifecycle: Sendable, Equatable {
    /// What a serving forward knows of its pods and its API server.
    public struct Serving: Sendable, Equatable {
        /// The pods new connections go to now.
        public var pods: [String]
        /// Why there is none, when there is none.
        public var emptyReason: ForwardError?
        /// Why the API server cannot be reached, while it cannot: the pods are the last ones
        /// seen, and connections keep going to them.
        public var apiError: ForwardError?
        /// The pods failing their probe, with why.
        public var failing: [String: String] = [:]

        /// When every pod fails its probe: why (connections still go to them).
        public var unhealthy: ForwardError? {
            guard !self.pods.isEmpty, self.pods.allSatisfy({ self.failing[$0] != nil }) else { return nil }
            let why = self.pods.sorted().map { "\($0): \(self.failing[$0] ?? "")" }.joined(separator: "; ")
            return ForwardError(code: .podUnhealthy, "no pod passes its probe (\(why))", fix: "check the pods, or the forward's --probe")
        }
    }

    public enum State: Sendable, Equatable {
        /// Not running.
        case stopped
        /// Resolving the kubeconfig, binding ports, waiting for the first list of the target;
        /// `blocked` says why that list has not come when the API server refused it.
        case starting(blocked: ForwardError?)
        /// Listening, and following the target's pods.
        case serving(Serving)
        /// The run failed with `error`; the `attempt`th try comes after `delay`.
        case retrying(ForwardError, attempt: Int, delay: Duration)
        /// The run is being cancelled; it starts again after when `restart`.
        case stopping(restart: Bool)
    }

    /// What the runner does next.
    public enum Action: Sendable, Equatable {
        case none
        /// Start a run of the forward.
        case run
        /// Cancel what runs now (the run, or the wait before a retry); its end is reported with
        /// ``ForwardLifecycle/runEnded(_:retryAfter:)`` or ``ForwardLifecycle/retryDue()``.
        case cancel
        /// Wait this long, then report ``ForwardLifecycle/retryDue()``.
        case wait(Duration)
        /// The forward is stopped: nothing more to run.
        case finish
    }

    public private(set) var state: State = .stopped
    /// Failed runs since the last start by the user (a restart or a successful run resets it).
    public private(set) var attempt = 0

    public init() {}

    /// The user (or auto-start) starts the forward.
    public mutating func start() -> Action {
        guard case .stopped = self.state else { return .none }
        self.attempt = 0
        self.state = .starting(blocked: nil)
        return .run
    }

    /// Stop: the run (or the wait for a retry) is cancelled.
    public mutating func stop() -> Action {
        switch self.state {
        case .stopped, .stopping(restart: false):
            return .none
        case .stopping(restart: true):
            self.state = .stopping(restart: false)
            return .none
        case .starting, .serving, .retrying:
            self.state = .stopping(restart: false)
            return .cancel
        }
    }

    /// Restart (a new spec, the user's `r`, the network changed): the run is cancelled, its ports
    /// closed, and it runs again at once, attempts counted afresh.
    public mutating func restart() -> Action {
        switch self.state {
        case .stopped:
            return self.start()
        case .stopping:
            return .none
        case .starting, .serving, .retrying:
            self.state = .stopping(restart: true)
            return .cancel
        }
    }

    /// The run's informers cannot list or watch the target (`error`), or can again (nil).
    public mutating func apiChanged(_ error: ForwardError?) {
        switch self.state {
        case .starting:
            self.state = .starting(blocked: error)
        case .serving(var serving):
            serving.apiError = error
            self.state = .serving(serving)
        case .stopped, .retrying, .stopping:
            break
        }
    }

    /// A probe found `pod` failing (`failure`), or passing again (nil).
    public mutating func healthChanged(pod: String, failure: String?) {
        guard case .serving(var serving) = self.state else { return }
        serving.failing[pod] = failure
        self.state = .serving(serving)
    }

    /// The run reports the pods new connections go to (empty: none, for `reason`).
    public mutating func podsChanged(_ pods: [String], reason: ForwardError?) {
        let emptyReason = pods.isEmpty ? reason ?? ForwardError(code: .noReadyPod, "no ready pod") : nil
        switch self.state {
        case .starting:
            // The first list arrived: the informers are up, whatever blocked them before.
            self.state = .serving(Serving(pods: pods, emptyReason: emptyReason, apiError: nil))
        case .serving(var serving):
            serving.pods = pods
            serving.emptyReason = emptyReason
            self.state = .serving(serving)
        case .stopped, .retrying, .stopping:
            break
        }
        if !pods.isEmpty { self.attempt = 0 }
    }

    /// The run ended: with `error`, or by itself (nil: a run that ends cleanly is over, as
    /// kubectl's is); cancelled runs end here too.
    public mutating func runEnded(_ error: ForwardError?, retryAfter delay: Duration) -> Action {
        switch self.state {
        case .stopping(let restart):
            return self.cancelled(restart: restart)
        case .stopped:
            return .finish
        case .starting, .serving, .retrying:
            guard let error else {
                self.state = .stopped
                return .finish
            }
            self.attempt += 1
            self.state = .retrying(error, attempt: self.attempt, delay: delay)
            return .wait(delay)
        }
    }

    /// The wait before a retry ended (or was cancelled by a stop or restart).
    public mutating func retryDue() -> Action {
        switch self.state {
        case .retrying:
            self.state = .starting(blocked: nil)
            return .run
        case .stopping(let restart):
            return self.cancelled(restart: restart)
        case .stopped:
            return .finish
        case .starting, .serving:
            return .none
        }
    }

    /// What a stop or restart cancelled has ended: stopped, or running again from the start.
    private mutating func cancelled(restart: Bool) -> Action {
        guard restart else {
            self.state = .stopped
            return .finish
        }
        self.attempt = 0
        self.state = .starting(blocked: nil)
        return .run
    }
}

extension ForwardLifecycle.State {
    /// The state's one-word name, as `kfwd status -o json`, the event stream, the store and
    /// `/metrics` give it: `running` (serving, pods ready, API up), `waiting` (listening, no pod
    /// can take a connection), `degraded` (serving the last pods seen while the API server
    /// cannot be reached, or pods that all fail their probe).
    public var name: String {
        switch self {
        case .stopped: "stopped"
        case .starting(nil): "starting"
        case .starting: "waiting"
        case .serving(let serving) where serving.pods.isEmpty: "waiting"
        case .serving(let serving) where serving.apiError != nil || serving.unhealthy != nil: "degraded"
        case .serving: "running"
        case .retrying: "retrying"
        case .stopping: "stopping"
        }
    }

    /// Every ``name``, in lifecycle order.
    public static let names = ["starting", "running", "waiting", "degraded", "retrying", "stopping", "stopped"]

    /// Why the forward is in this state, when it is not simply running or stopped.
    public var reason: ForwardError? {
        switch self {
        case .stopped, .stopping: nil
        case .starting(let blocked): blocked
        case .serving(let serving): serving.pods.isEmpty ? serving.apiError ?? serving.emptyReason : serving.apiError ?? serving.unhealthy
        case .retrying(let error, _, _): error
        }
    }

    /// The pods new connections would go to now.
    public var pods: [String] {
        if case .serving(let serving) = self { return serving.pods }
        return []
    }

    /// Whether the forward is up and nothing is wrong.
    public var isHealthy: Bool { self.name == "running" }
}
