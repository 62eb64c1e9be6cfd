import Forwarding

/// Prints what `kfwd up`'s forwards do, one line per change, each prefixed with the forward's
/// alias: read from the supervisor's status stream, the same stream a daemon serves.
struct StatusPrinter: Sendable {
    let specs: [String: ForwardSpec]

    init(specs: [ForwardSpec]) {
        self.specs = Dictionary(specs.map { ($0.alias, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func print(_ updates: AsyncStream<ForwardStatus>) async {
        var last: [String: ForwardStatus] = [:]
        for await status in updates {
            self.report(status, after: last[status.alias])
            last[status.alias] = status
        }
    }

    private func report(_ status: ForwardStatus, after previous: ForwardStatus?) {
        let alias = status.alias
        if status.listening != previous?.listening ?? [], !status.listening.isEmpty, let spec = self.specs[alias] {
            let remote = spec.mappings.map { String($0.remote) }.joined(separator: ", ")
            for socket in status.listening where !(previous?.listening.contains(socket) ?? false) {
                Terminal.line("\(alias): Forwarding from \(socket) -> \(remote) (\(spec.target))")
            }
        }
        if status.failedConnections > previous?.failedConnections ?? 0, let error = status.lastError {
            Terminal.error("\(alias): connection failed: \(error)")
        }
        if status.apiError != previous?.apiError ?? nil {
            if let error = status.apiError {
                Terminal.error("\(alias): the API server cannot be reached (\(error)); open connections keep going, retrying with backoff")
            } else {
                Terminal.line("\(alias): the API server is reachable again")
            }
        }
        if let transport = status.transport, transport != previous?.transport {
            Terminal.line("\(alias): transport \(transport)")
        }
        if let note = status.relayNote, note != previous?.relayNote {
            Terminal.line("\(alias): \(note)")
        }
        if let note = status.kubeconfigNote, note != previous?.kubeconfigNote {
            Terminal.line("\(alias): \(note)")
        }
        switch status.state {
        case .running where status.pods != previous?.pods || previous?.state != .running:
            Terminal.line("\(alias): ready, new connections go to \(status.pods.joined(separator: ", "))")
        case .waiting(let reason) where previous?.state != status.state:
            Terminal.line("\(alias): waiting: \(reason); new connections are held until a pod is ready")
        case .retrying(let reason, let delay) where previous?.state != status.state:
            Terminal.error("\(alias): \(reason); retrying in \(delay.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))")
        case .stopped where previous?.state != .stopped:
            Terminal.line("\(alias): stopped")
        default:
            break
        }
    }
}
