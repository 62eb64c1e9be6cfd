import Foundation

/// Where kfwd keeps its files: `$KFWD_HOME`, else `$XDG_CONFIG_HOME/kfwd`, else
/// `~/.config/kfwd`.
public enum StoreLocation {
    public static let databaseName = "kfwd.sqlite"

    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let home = environment["KFWD_HOME"], !home.isEmpty { return home }
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty { return (config as NSString).appendingPathComponent("kfwd") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".config/kfwd")
    }

    /// The database file in ``directory(environment:)``.
    public static func databasePath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        (self.directory(environment: environment) as NSString).appendingPathComponent(self.databaseName)
    }
}
