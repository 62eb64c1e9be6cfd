import Synchronization

/// Chooses among the ready pods for each new connection: in turn, as a Service without session
/// affinity spreads connections, or (sticky) the same pod for as long as it stays ready, as
/// `sessionAffinity: ClientIP` does for a client that always has the same address.
final class PodChooser: Sendable {
    private let state = Mutex<(turn: Int, current: String?)>((0, nil))

    func choose(from candidates: [PodChoice], sticky: Bool) -> PodChoice {
        self.state.withLock { state in
            if sticky, let current = state.current, let kept = candidates.first(where: { $0.pod == current }) { return kept }
            defer { state.turn &+= 1 }
            let choice = candidates[state.turn % candidates.count]
            state.current = choice.pod
            return choice
        }
    }
}
