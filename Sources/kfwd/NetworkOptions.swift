import ArgumentParser
import Forwarding

/// How kfwd follows the machine's network: `--settle`.
struct NetworkOptions: ParsableArguments {
    @Option(name: .customLong("settle"), help: "Seconds network changes must stop before kfwd checks its clusters and re-establishes their connections (default 2; kfwd up and the daemon: the network_settle_seconds setting).")
    var seconds: Double?

    func validate() throws {
        if let seconds = self.seconds, !(0...300).contains(seconds) {
            throw ValidationError("--settle \(seconds) is out of range: give 0 to 300 seconds")
        }
    }

    /// The watch's settings: `--settle`, else `stored` (the setting), else the default.
    func settings(stored: Double? = nil) -> NetworkWatch.Settings {
        guard let seconds = self.seconds ?? stored else { return NetworkWatch.Settings() }
        return NetworkWatch.Settings(settle: .milliseconds(Int(seconds * 1000)))
    }
}
