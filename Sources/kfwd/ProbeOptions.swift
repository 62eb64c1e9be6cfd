import ArgumentParser
import Forwarding

/// How a forward checks its pods through the tunnel: `--probe`, `--probe-interval`.
struct ProbeOptions: ParsableArguments {
    @Option(help: "How each pod in use is checked through the tunnel: tcp (the pod's port accepts; the default), http:/PATH (2xx or 3xx), postgres, redis, or expect:SEND=EXPECT (\\r \\n escapes). A pod failing it gets no new connections while another passes.")
    var probe: String?

    @Option(name: .customLong("probe-interval"), help: "Seconds between probes; 0 turns them off (default 10).")
    var probeInterval: Double?

    func validate() throws {
        if let probe = self.probe {
            do { _ = try ProbeSpec(parsing: probe) } catch { throw ValidationError(error.message) }
        }
        if let seconds = self.probeInterval, !(0...3600).contains(seconds) {
            throw ValidationError("--probe-interval \(seconds) is out of range: give 0 (no probes) to 3600 seconds")
        }
    }
}
