import ControlAPI
import Forwarding
import Prometheus
import Synchronization

/// `/metrics` in Prometheus's text format, per forward: its state, its pods, the connections
/// and bytes it carried, and its reconnects. Values are read from the status report at scrape
/// time (the data path keeps its own counters), so metrics and `kfwd status` never disagree.
/// Counters count since the forward last started; Prometheus treats a restart as a reset.
final class ForwardMetrics: Sendable {
    private struct Family: Sendable {
        let counters: [String: Counter]
        let gauges: [String: Gauge]
    }

    private let registry = PrometheusCollectorRegistry()
    /// Serializes scrapes (each resets and refills the counters) and remembers what was
    /// registered, so that a removed forward's series go away.
    private let families = Mutex<[String: Family]>([:])

    func render(_ report: StatusReport) -> [UInt8] {
        self.families.withLock { families in
            let aliases = Set(report.forwards.map(\.alias))
            for (alias, family) in families where !aliases.contains(alias) {
                family.counters.values.forEach(self.registry.unregisterCounter)
                family.gauges.values.forEach(self.registry.unregisterGauge)
                families.removeValue(forKey: alias)
            }
            for forward in report.forwards {
                let family = families[forward.alias] ?? self.family(forward.alias)
                families[forward.alias] = family
                let counts: [String: Int64] = [
                    "connections": Int64(forward.connections), "failed": Int64(forward.failedConnections),
                    "reconnects": Int64(forward.reconnects), "to_cluster": forward.bytesToCluster, "from_cluster": forward.bytesFromCluster,
                ]
                for (key, value) in counts {
                    family.counters[key]?.reset()
                    family.counters[key]?.increment(by: value)
                }
                for state in ForwardLifecycle.State.names { family.gauges[state]?.set(Int64(state == forward.status ? 1 : 0)) }
                family.gauges["pods"]?.set(Int64(forward.pods.count))
                family.gauges["failing_pods"]?.set(Int64(forward.failingPods.count))
            }
            return self.registry.emitToBuffer()
        }
    }

    private func family(_ alias: String) -> Family {
        let labels = [("alias", alias)]
        func counter(_ name: String, _ help: String, _ extra: [(String, String)] = []) -> Counter {
            self.registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "kfwd", subsystem: "forward", metricName: name, unitName: "total", helpText: help), labels: labels + extra)
        }
        let bytesHelp = "Bytes a forward carried since it started, by direction (to_cluster: sent by local clients)."
        let counters = [
            "connections": counter("connections", "Local connections a forward accepted since it started."),
            "failed": counter("failed_connections", "Local connections that could not be forwarded or ended in an error."),
            "reconnects": counter("reconnects", "Times a forward moved to other pods or restarted after a failure."),
            "to_cluster": counter("bytes", bytesHelp, [("direction", "to_cluster")]),
            "from_cluster": counter("bytes", bytesHelp, [("direction", "from_cluster")]),
        ]
        var gauges: [String: Gauge] = [:]
        for state in ForwardLifecycle.State.names {
            gauges[state] = self.registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "kfwd", subsystem: "forward", metricName: "state", unitName: "", helpText: "1 for the state a forward is in."),
                labels: labels + [("state", state)]
            )
        }
        gauges["pods"] = self.registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "kfwd", subsystem: "forward", metricName: "pods", unitName: "", helpText: "Pods new connections go to."),
            labels: labels
        )
        gauges["failing_pods"] = self.registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "kfwd", subsystem: "forward", metricName: "failing_pods", unitName: "", helpText: "Pods in use that fail their probe."),
            labels: labels
        )
        return Family(counters: counters, gauges: gauges)
    }
}
