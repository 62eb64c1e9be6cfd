import ConfigStore
import ControlAPI
import Foundation

@testable import TerminalUI

/// Rows as the daemon sends them: saved forwards with a state.
enum Fixtures {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func row(
        _ alias: String, _ target: String, ports: [String], namespace: String = "shop", context: String = "dev", tags: [String] = [], udp: Bool = false,
        state: (inout StatusReport.Forward) -> Void = { _ in }
    ) -> ForwardRow {
        var config = ForwardConfig(target: target, ports: ports, namespace: namespace, context: context, udp: udp)
        config.tags = tags
        var status = StatusReport.Forward(alias: alias)
        state(&status)
        return ForwardRow(StoredForward(alias: alias, spec: config), state: status) { _ in context }
    }

    /// Four forwards: one running, one waiting on a missing service, one UDP through the
    /// relay, one stopped; and one retrying in another context.
    static var snapshot: ForwardsSnapshot {
        ForwardsSnapshot(
            daemonPID: 4242,
            forwards: [
                row("web", "svc/web", ports: ["8080:80"], tags: ["front"]) {
                    $0.status = "running"
                    $0.pods = ["web-7d9f8-x2x9z", "web-7d9f8-abcde"]
                    $0.since = now.addingTimeInterval(-192)
                    $0.connections = 14
                    $0.reconnects = 2
                    $0.transport = "tunnel"
                    $0.listening = ["127.0.0.1:8080"]
                },
                row("shop-api", "svc/webb", ports: ["9090:80"]) {
                    $0.status = "waiting"
                    $0.reason = "service shop/webb does not exist"
                    $0.code = "service_missing"
                    $0.fix = "check the name: kubectl get svc -n shop"
                    $0.since = now.addingTimeInterval(-30)
                },
                row("dns", "svc/kube-dns", ports: ["5353:53"], namespace: "kube-system", udp: true) {
                    $0.status = "running"
                    $0.pods = ["kfwd-relay-1a2b3c"]
                    $0.since = now.addingTimeInterval(-3700)
                },
                row("db", "svc/postgres", ports: ["5432"], tags: ["data"]),
                row("cache", "svc/redis", ports: ["6379"], context: "prod") {
                    $0.status = "retrying"
                    $0.retries = 3
                    $0.retryDelay = 8
                    $0.since = now.addingTimeInterval(-3)
                    $0.reason = "local port 6379 is busy"
                },
            ]
        )
    }

    static func model(_ snapshot: ForwardsSnapshot = Fixtures.snapshot, grouping: ForwardsModel.Grouping = .context) -> ForwardsModel {
        var model = ForwardsModel(grouping: grouping)
        model.update(snapshot, at: now)
        return model
    }

    static func render(_ model: ForwardsModel, width: Int, height: Int, ascii: Bool = false) -> ScreenGrid {
        let screen = ForwardsScreen(width: width, height: height, ascii: ascii)
        var model = model
        model.pageSize = screen.pageSize
        return screen.render(model, now: now)
    }
}
