import ControlAPI
import HTTPTypes
import RelayProtocol
import Synchronization

/// Who may use the dashboard: whoever holds this daemon's token (printed by `kfwd dashboard`,
/// which only the user can ask for over the 0600 socket), through a page whose Host is this
/// dashboard's own. Both tokens are new at every daemon start.
public final class DashboardAccess: Sendable {
    /// Proves the holder may read and act: in `?token=` once (swapped for a cookie), in the
    /// cookie, or in `Authorization: Bearer` (scripts, Prometheus).
    let token: String
    /// Proves a state-changing request came from the dashboard's own page: it is in the page
    /// and goes back in a header, which another site's page can neither read nor send.
    let csrfToken: String
    /// The header that carries ``csrfToken``.
    static let csrfHeader = HTTPField.Name("X-Kfwd-CSRF")!
    private let boundPort = Mutex<Int?>(nil)
    private let failure = Mutex<String?>(nil)

    public init() {
        // The relay's secrets are made and compared the same way.
        self.token = RelaySecret.generate()
        self.csrfToken = RelaySecret.generate()
    }

    /// The port it listens on, once bound.
    public var port: Int? { self.boundPort.withLock { $0 } }

    func bound(port: Int) {
        self.boundPort.withLock { $0 = port }
    }

    /// Why the dashboard does not run (its port is taken, say); the daemon runs on without it.
    public var error: String? { self.failure.withLock { $0 } }

    func failed(_ reason: String) {
        self.failure.withLock { $0 = reason }
    }

    /// The URL that opens the dashboard with the token, once bound.
    public var url: String? { self.port.map { "http://127.0.0.1:\($0)/?token=\(self.token)" } }

    /// The cookie is per port: cookies ignore ports, and two users' daemons on one machine
    /// must not overwrite each other's.
    var cookieName: String { "kfwd_dashboard_\(self.port ?? 0)" }

    /// Host names that reach this dashboard on loopback; any other Host header is a
    /// rebinding attempt (a name that an attacker's DNS points at 127.0.0.1).
    func allowsHost(_ authority: String?) -> Bool {
        guard let authority, let port = self.port else { return false }
        return ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)"].contains(authority.lowercased())
    }

    /// The origins of the dashboard's own pages.
    func allowsOrigin(_ origin: String) -> Bool {
        guard let port = self.port else { return false }
        return ["http://127.0.0.1:\(port)", "http://localhost:\(port)", "http://[::1]:\(port)"].contains(origin.lowercased())
    }

    /// Compared in constant time, so the token cannot be guessed a byte at a time.
    static func same(_ given: String?, _ expected: String) -> Bool {
        given.map { RelaySecret.matches($0, expected) } ?? false
    }
}
