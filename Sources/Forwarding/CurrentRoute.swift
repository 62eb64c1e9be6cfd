import KubeClient
import Signals
import Synchronization

/// How new connections of a forward reach its pods in the current kubeconfig context.
struct Route: Sendable {
    /// Counts the routes a forward has had, so that a connection can tell a new route from the
    /// one whose pods refused it.
    var generation = 0
    let context: KubeContext
    let namespace: String
    let picker: any PodPicker
    let transport: any PortForwardTransport
    /// Streams opened ahead to the picker's pods, when the forward keeps any.
    let warm: WarmStreams?
}

/// The route new connections take, swapped as a whole when the kubeconfig changes; connections
/// already open keep the stream they have. Nil until the first informers have synced.
final class CurrentRoute: Sendable {
    private let route = Mutex<Route?>(nil)
    let ticker = Ticker()

    private let blockedBy = Mutex<ForwardError?>(nil)

    var value: Route? { self.route.withLock { $0 } }

    /// Why there is no route yet, when the API server refused the first list (credentials,
    /// rights, unreachable): what a held connection is told.
    var blocked: ForwardError? { self.blockedBy.withLock { $0 } }

    func block(_ error: ForwardError?) {
        let changed = self.blockedBy.withLock { blocked in
            defer { blocked = error }
            return blocked != error
        }
        if changed { self.ticker.fire() }
    }

    func set(_ route: Route) {
        self.route.withLock { current in
            var route = route
            route.generation = (current?.generation ?? 0) + 1
            current = route
        }
        self.ticker.fire()
    }
}
