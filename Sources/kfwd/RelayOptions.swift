import ArgumentParser
import Forwarding

/// How the relay pods of `--udp`, `host/`, `ip/` and `proxy` forwards are deployed, the same
/// options for every command that may deploy one.
struct RelayOptions: ParsableArguments {
    @Option(name: .customLong("relay-image"), help: "The kfwd-relay image to deploy.")
    var image = RelaySettings.defaultImage

    @Option(name: .customLong("relay-cpu"), help: "The relay container's CPU limit.")
    var cpu = RelaySettings().cpuLimit

    @Option(name: .customLong("relay-memory"), help: "The relay container's memory limit.")
    var memory = RelaySettings().memoryLimit

    func validate() throws {
        if self.image.isEmpty { throw ValidationError("--relay-image is empty: give an image reference, e.g. \(RelaySettings.defaultImage)") }
        for (flag, value, pattern) in [("--relay-cpu", self.cpu, "e.g. 100m or 0.5"), ("--relay-memory", self.memory, "e.g. 64Mi or 1Gi")] {
            // The apiserver's quantity grammar: a decimal number and an optional suffix.
            let number = value.prefix { $0.isNumber || $0 == "." }
            let suffix = value.dropFirst(number.count)
            let suffixes: Set<String> = ["", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
            guard !number.isEmpty, Double(number) != nil, suffixes.contains(String(suffix)) else {
                throw ValidationError("\(flag) '\(value)' is not a Kubernetes quantity: \(pattern)")
            }
        }
    }

    var settings: RelaySettings {
        RelaySettings(image: self.image, cpuLimit: self.cpu, memoryLimit: self.memory)
    }
}
