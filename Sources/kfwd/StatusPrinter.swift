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
            for line in StatusLine.changes(from: last[status.alias], to: status, spec: self.specs[status.alias]) {
                if line.isError { Terminal.error(line.description) } else { Terminal.line(line.description) }
            }
            last[status.alias] = status
        }
    }
}
