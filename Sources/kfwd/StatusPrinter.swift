import Forwarding

/// Prints what `kfwd up`'s forwards do, one line per change, each prefixed with the forward's
/// alias: read from the supervisor's status stream, the same stream a daemon serves.
struct StatusPrinter: Sendable {
    /// The spec a forward runs now (it changes when a project file is edited).
    let spec: @Sendable (String) -> ForwardSpec?

    func print(_ updates: AsyncStream<ForwardStatus>) async {
        var last: [String: ForwardStatus] = [:]
        for await status in updates {
            for line in StatusLine.changes(from: last[status.alias], to: status, spec: self.spec(status.alias)) {
                if line.isError { Terminal.error(line.description) } else { Terminal.line(line.description) }
            }
            last[status.alias] = status
        }
    }
}
