import KubeClient
import NIOCore

/// One local connection's way to a pod, as a value: which pods it may still try, what it sent
/// that no pod has seen, and what to do next. Events go in as mutating calls, each returning
/// an ``Action``; nothing here does I/O. The same machine serves a connection joined on its
/// event loop as it is accepted (``ResilientForward``'s fast path) and then, when that pod
/// refuses, the task that takes it over: it is handed on whole, with what it knows. `pod/`
/// forwards use it with the one-pod policy, and relay forwards' TCP connections with the relay
/// pod as their one candidate.
///
/// ```
///   choosing ──offer: candidates──▶ opening(pod) ──opened──▶ joined(pod) ──ended──▶ done
///      ▲  │                             │                       │
///      │  └─offer: none──▶ holding      │ refused, never seen   │ refused before the pod answered
///      │                     │          ▼                       ▼
///      └──── pods changed ───┴──── choosing (that pod excluded, its bytes kept to replay)
///                            deadline, or waiting cannot help ──▶ failed(error)
///
///   opening(pod) ──could not reach the API server──▶ holding ──after a short delay──▶ choosing
/// ```
struct ConnectionMachine: Sendable {
    /// How refusals are met.
    enum Policy: Sendable {
        /// Another ready pod gets a refused connection, with what it sent (services,
        /// deployments, selectors).
        case movesOn
        /// One pod only (`pod/NAME`, kubectl's meaning): a refusal fails the connection.
        case onePod
        /// kfwd's relay pod (UDP, `host/`, `ip/`): a refused connection goes to the relay that
        /// replaces it, with what it sent, or to the same relay after a pause (it may have been
        /// starting); its errors name the relay.
        case relay
    }

    enum State: Sendable, Equatable {
        case choosing
        /// A stream to the pod is being opened (on the loop, or by the task when the loop found
        /// no session up).
        case opening(PodChoice)
        case joined(PodChoice)
        /// No pod can take it now; held until the pods change or the deadline.
        case holding(ForwardError)
        case done
        case failed(ForwardError)
    }

    enum Action: Sendable, Equatable {
        /// Choose one of these pods and open a stream to it.
        case open(among: [PodChoice])
        /// Open a stream to the pod chosen as the connection was accepted, still a candidate.
        case openChosen(PodChoice)
        /// Wait for a change of the pods, the deadline or the local connection closing; tell
        /// the user why when `report`.
        case hold(ForwardError, report: Bool)
        /// The API server could not be reached to open a stream: hold the connection as for
        /// ``hold(_:report:)``, and offer the pods again after `after` (the cluster may be back).
        case redial(ForwardError, after: Duration, report: Bool)
        /// Offer the pods again.
        case offerAgain
        /// Close the local connection and report the failure.
        case fail(ForwardError)
        /// Nothing more to do: the connection ended.
        case finish
    }

    let policy: Policy
    private(set) var state: State = .choosing
    /// Pods that refused this connection on route ``refusedOn``.
    private(set) var refused: Set<String> = []
    private var refusedOn: Int?
    /// Why the last pod refused.
    private(set) var lastRefusal: PortForwardError?
    /// What the connection sent that no pod has seen (kept when a pod refused before it
    /// answered), for the next pod.
    private(set) var replay: ByteBuffer?
    /// The route the pod in ``State/opening(_:)`` was chosen on.
    private var chosenOn: Int?
    /// Streams that could not be opened because the API server could not be reached.
    private(set) var unreachable = 0
    /// Whether the connection was counted (``ForwardEvent/connection(local:remote:)``): once,
    /// wherever it is served.
    private(set) var counted = false

    init(policy: Policy) {
        self.policy = policy
    }

    /// Counts the connection, once: true the first time.
    mutating func count() -> Bool {
        defer { self.counted = true }
        return !self.counted
    }

    /// The pods the current route offers for the connection's port: nil when there is no route
    /// yet (the first list has not come), with `reason` saying why none can take it.
    mutating func offer(_ candidates: [PodChoice]?, route generation: Int?, reason: () -> ForwardError) -> Action {
        switch self.state {
        case .done, .failed, .joined:
            return .finish
        case .choosing, .opening, .holding:
            break
        }
        if generation != self.refusedOn {
            // Pods that refused on another context's route may take this one's streams.
            self.refused.removeAll()
            self.refusedOn = generation
        }
        // Not filtered when nothing refused: a new connection's path allocates nothing here.
        let open = self.refused.isEmpty ? candidates ?? [] : (candidates ?? []).filter { !self.refused.contains($0.pod) }
        if !open.isEmpty {
            // The pod chosen as it was accepted, while it is still a candidate on that route.
            if case .opening(let chosen) = self.state, self.chosenOn == generation, open.contains(chosen) {
                return .openChosen(chosen)
            }
            self.state = .choosing
            return .open(among: open)
        }
        let why: ForwardError
        if let refusal = self.lastRefusal, !self.refused.isEmpty {
            why =
                self.policy == .relay
                ? ForwardError(code: .relay, "the relay refused the stream (\(refusal.message))")
                : ForwardError(code: .noReadyPod, "every ready pod refused the stream (\(refusal.message))")
        } else {
            why = reason()
        }
        if candidates == nil, why.needsUser {
            // Waiting cannot help (credentials, rights): refused at once, as kubectl does.
            self.state = .failed(why)
            return .fail(why)
        }
        // A refusal held while other pods may come back is said once, not at every change.
        let report = self.lastRefusal == nil || !self.refused.isEmpty
        self.state = .holding(why)
        return .hold(why, report: report)
    }

    /// The runner chose `choice` on route `generation` and opens a stream to it.
    mutating func chose(_ choice: PodChoice, route generation: Int?) {
        self.state = .opening(choice)
        self.chosenOn = generation
    }

    /// The stream is open and spliced to the connection.
    mutating func joined() {
        guard case .opening(let choice) = self.state else { return }
        self.state = .joined(choice)
    }

    /// The stream could not be opened. When the API server could not be reached, the pod is
    /// not to blame and no byte went anywhere: the connection is held (an API server restart,
    /// a network that is coming back) and tried again, on the same terms, after a delay that
    /// grows to a second, until the pod wait runs out.
    mutating func openFailed(_ error: PortForwardError) -> Action {
        guard case .opening(let choice) = self.state else { return .finish }
        guard error.kind == .transport, self.policy != .onePod else {
            return self.refusedBy(choice.pod, error, replay: nil)
        }
        self.unreachable += 1
        let why = ForwardError(code: .clusterUnreachable, "a stream to pod \(choice.pod) could not be opened: \(error.message)")
        self.state = .holding(why)
        let delay = min(Duration.milliseconds(250 << min(self.unreachable - 1, 2)), .seconds(1))
        return .redial(why, after: delay, report: self.unreachable == 1)
    }

    /// The stream ended: the connection is over, or the pod refused before it answered and
    /// handed back what the connection sent.
    mutating func ended(_ outcome: SpliceOutcome) -> Action {
        guard case .joined(let choice) = self.state else { return .finish }
        switch outcome {
        case .finished:
            self.state = .done
            return .finish
        case .refusedBeforeResponse(let error, let replay):
            return self.refusedBy(choice.pod, error, replay: replay)
        }
    }

    /// The stream broke after the pod had the connection's bytes: only this connection fails.
    mutating func broke(_ error: PortForwardError) -> Action {
        let failure = ForwardError(error)
        self.state = .failed(failure)
        return .fail(failure)
    }

    /// The pods changed while the connection was held.
    mutating func podsChanged() -> Action {
        guard case .holding = self.state else { return .finish }
        // Pods that refused may take it now: they came back, or others did.
        self.refused.removeAll()
        self.state = .choosing
        return .offerAgain
    }

    /// The hold reached its deadline.
    mutating func deadlinePassed(target: ForwardTarget, wait: Duration) -> Action {
        guard case .holding(let why) = self.state else { return .finish }
        let waited = self.policy == .relay ? "the relay for \(target) could not be reached" : "no ready pod of \(target)"
        let failure = ForwardError(code: why.code, "\(waited) within \(wait): \(why.message)", fix: why.fix)
        self.state = .failed(failure)
        return .fail(failure)
    }

    /// The local client closed the connection.
    mutating func closed() {
        self.state = .done
    }

    private mutating func refusedBy(_ pod: String, _ error: PortForwardError, replay: ByteBuffer?) -> Action {
        guard self.policy != .onePod, error.backendNeverSawData else {
            return self.broke(error)
        }
        self.refused.insert(pod)
        self.lastRefusal = error
        if let replay { self.replay = replay }
        self.state = .choosing
        return .offerAgain
    }
}
