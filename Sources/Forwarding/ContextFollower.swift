import KubeClient
import Signals
import Synchronization

/// The kubeconfig context a forward uses, read again whenever one of the kubeconfig's files
/// changes: a context switched with `kubectl config use-context` (for forwards on the current
/// context), rotated credentials, a moved server. A kubeconfig that cannot be used (a write in
/// progress, a context removed) keeps the last good one.
final class ContextFollower: Sendable {
    private let state: Mutex<KubeContext>
    let ticker = Ticker()
    let source: KubeconfigSource

    init(source: KubeconfigSource, initial: KubeContext) {
        self.source = source
        self.state = Mutex(initial)
    }

    var current: KubeContext { self.state.withLock { $0 } }

    /// Watches the kubeconfig until cancelled.
    func run(events: @Sendable (ForwardEvent) -> Void) async {
        do {
            try await FileWatcher(paths: self.source.loader.paths, what: "the kubeconfig").run {
                let context: KubeContext
                do throws(ForwardError) {
                    context = try self.source.resolve()
                } catch {
                    events(.kubeconfig(changed: false, "the kubeconfig changed but cannot be used (\(error.message)); keeping context '\(self.current.name)'"))
                    return
                }
                let changed = self.state.withLock { current in
                    defer { current = context }
                    return current != context
                }
                // The forward reports the change once new connections take it.
                if changed { self.ticker.fire() }
            }
        } catch {
            if Task.isCancelled { return }
            events(.kubeconfig(changed: false, "\(error); kubeconfig changes will not be followed"))
        }
    }

    /// Returns once the context differs from `context`, or the task is cancelled.
    func waitForChange(from context: KubeContext) async {
        _ = await StoreChanges.rerun(on: [self.ticker]) { self.current != context ? () : nil }
    }
}
