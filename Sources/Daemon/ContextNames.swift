import ControlAPI
import ConfigStore
import Forwarding
import Synchronization

/// The context each saved forward uses, by name, for the dashboard's groups. A forward saved
/// without one follows its kubeconfig's current context, read from the file at most every few
/// seconds (snapshots are taken several times a second while a page is open).
final class ContextNames: Sendable {
    private struct Resolved {
        let name: String
        let at: ContinuousClock.Instant
    }

    static let freshFor = Duration.seconds(5)
    private let cache = Mutex<[String: Resolved]>([:])

    /// - Parameters:
    ///   - spec: the forward, when kfwd can run it.
    ///   - kftray: its kftray entry, which names the context of one kfwd cannot run.
    func name(of spec: ForwardSpec?, kftray: KftrayConfig) -> String {
        guard let spec else { return kftray.namedContext ?? "current" }
        if let named = spec.context { return named }
        let key = spec.kubeconfig ?? ""
        let now = ContinuousClock.now
        if let cached = self.cache.withLock({ $0[key] }), now - cached.at < Self.freshFor { return cached.name }
        let name: String
        do throws(ForwardError) {
            name = try spec.kubeconfigSource.resolve().name
        } catch {
            name = "current (kubeconfig not readable)"
        }
        self.cache.withLock { $0[key] = Resolved(name: name, at: now) }
        return name
    }
}
