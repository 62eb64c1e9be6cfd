import KubeClient

/// What a forward reports as it runs, one value per notable event.
public enum ForwardEvent: Sendable {
    /// A local socket is listening.
    case listening(address: String, local: Int, remote: RemotePort)
    /// No pod can take new connections on a local port: they are held until one is ready.
    case waiting(local: Int, reason: ForwardError)
    /// The pods new connections go to, reported at start and on every change of the set; an
    /// empty set follows a ``waiting(local:reason:)`` per port that says why.
    case ready(pods: [String])
    /// The API server became unreachable or refused the forward's list and watch (the reason:
    /// unreachable, credentials, forbidden), or serves them again (nil). Connections already
    /// open keep going; the informers retry with backoff.
    case api(error: ForwardError?)
    /// The kubeconfig changed on disk: the forward now uses another context or credentials
    /// (`changed`), or could not use the new file and keeps the old one.
    case kubeconfig(changed: Bool, String)
    /// The port-forward protocol the API server accepted (`tunnel`, `spdy`, `websocket`),
    /// reported once per route.
    case transport(String)
    /// The user's rights allow following the target only by polling (``FollowPlan``): how,
    /// and what is not allowed; reported when the forward starts in a context.
    case following(String)
    /// What the forward's relay is doing: being deployed, ready, lost and redeployed, or a
    /// stale one removed.
    case relay(String)
    /// A local connection was accepted and is being forwarded.
    case connection(local: Int, remote: RemotePort)
    /// A local connection's stream to a pod is open (reported with `--verbose`).
    case routed(local: Int, pod: String)
    /// A local connection stopped reading what `pod` sends long enough to hold back the pod's
    /// SPDY session (printed by `kfwd forward` with `--verbose`, always logged by `kfwd up` and
    /// the daemon): connections sharing the session wait with it, new ones get another session.
    case heldBack(pod: String)
    /// A pod started failing its probe (`failure` says how; it gets no new connections while
    /// another pod passes), or passes again (nil).
    case health(pod: String, failure: String?)
    /// The machine's network changed or it woke, the cluster could not be reached after it, or
    /// it answers again and the forward's sessions and watches were re-established.
    case network(NetworkNotice)
    /// A local connection could not be forwarded, or its stream ended in an error; only that
    /// connection was closed.
    case connectionFailed(local: Int, remote: RemotePort, ForwardError)
}

extension PortForwardTransportKind {
    /// The transport of this kind for `client`, telling `events` what it negotiates and when a
    /// local reader holds a session back.
    func transport(client: KubeClient, events: @escaping @Sendable (ForwardEvent) -> Void) -> any PortForwardTransport {
        self.transport(
            client: client, negotiated: { events(.transport($0)) }, heldBack: { events(.heldBack(pod: $0)) }, network: { events(.network($0)) }
        )
    }
}

extension ForwardEvent {
    /// What ``api(error:)`` means, in the words every reader prints: an unreachable server is
    /// waited out, a refusal (credentials, rights) needs the user.
    public static func apiMessage(_ error: ForwardError) -> String {
        if error.code == .clusterUnreachable {
            return "the API server cannot be reached (\(error.message)); open connections keep going, retrying with backoff"
        }
        return "cannot follow the target: \(error.message)\(error.fix.map { "; \($0)" } ?? ""); retrying with backoff"
    }

    /// What ``health(pod:failure:)`` means, in the words every reader prints.
    public static func healthMessage(pod: String, failure: String?) -> String {
        guard let failure else { return "pod \(pod) passes its probe again" }
        return "pod \(pod) fails its probe (\(failure)): no new connections go to it while another pod passes"
    }

    /// What ``heldBack(pod:)`` means, in the words every reader prints.
    public static func heldBackMessage(pod: String) -> String {
        "a local connection to pod \(pod) is not reading what the pod sends: connections sharing its session wait for it, new ones get another session"
    }
}
