import Foundation
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
    private let boundPort = Mutex<Int?>(nil)
    private let failure = Mutex<String?>(nil)

    public init() {
        self.token = Self.randomToken()
        self.csrfToken = Self.randomToken()
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
        guard let given else { return false }
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
