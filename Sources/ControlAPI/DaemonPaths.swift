import ConfigStore
import Foundation

/// Where the daemon keeps its lock, socket, log and store.
public struct DaemonPaths: Sendable {
    public let home: String
    public let socket: String

    /// `$KFWD_HOME` (else `$XDG_CONFIG_HOME/kfwd`, else `~/.config/kfwd`) for the files; the
    /// control socket in `$XDG_RUNTIME_DIR` when there is one, else in the home.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.home = StoreLocation.directory(environment: environment)
        let runtime = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        // A private KFWD_HOME (tests, a second profile) keeps its socket beside it.
        let socketDirectory = environment["KFWD_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? runtime ?? self.home
        self.socket = (socketDirectory as NSString).appendingPathComponent("kfwd.sock")
    }

    public var store: String { (self.home as NSString).appendingPathComponent(StoreLocation.databaseName) }
    public var lock: String { (self.home as NSString).appendingPathComponent("daemon.lock") }
    public var log: String { (self.home as NSString).appendingPathComponent("daemon.log") }
}
