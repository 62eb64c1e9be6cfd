import Foundation
import KubeClient
import Logging

/// The process's watch on the network, shared by every forward: the kernel's news of
/// interfaces, addresses and routes (``NetlinkWatch``) and of sleep and frozen processes
/// (``ClockWatch``), each change let settle, then every cluster that forwards use probed
/// through its own API server (never a public address) and, once it answers, its connections
/// re-established (``KubeClientCache/reestablish(_:outage:reason:)``): sessions rechecked, watches
/// resumed, listeners untouched. One ``ClusterRecovery`` per cluster decides each step.
public struct NetworkWatch: Sendable {
    public struct Settings: Sendable, Equatable {
        /// How long changes must stop before the clusters are probed (kftray waits 15 s).
        public var settle: Duration = .seconds(2)
        /// How long a probe waits for the API server.
        public var probeTimeout: Duration = .seconds(3)
        /// How often the clocks are read to notice a wake.
        public var clockInterval: Duration = .seconds(5)

        public init(settle: Duration = .seconds(2)) {
            self.settle = settle
        }
    }

    private enum Input: Sendable {
        case change(NetworkChange)
        case probed(ObjectIdentifier, error: String?)
        case tick
        /// The clock watch's steady beat: clusters new since the last one get their way out
        /// noted, so that the next change can be told from it.
        case beat
    }

    let cache: KubeClientCache
    let settings: Settings
    let logger: Logger

    public init(cache: KubeClientCache, settings: Settings = Settings(), logger: Logger = Logger(label: "kfwd.network")) {
        self.cache = cache
        self.settings = settings
        self.logger = logger
    }

    /// Watches until cancelled.
    public func run() async {
        let (inputs, feed) = AsyncStream<Input>.makeStream()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await ClockWatch(interval: self.settings.clockInterval).run(beat: { feed.yield(.beat) }) { feed.yield(.change($0)) }
            }
            #if os(Linux)
            group.addTask { await NetlinkWatch().run(logger: self.logger) { feed.yield(.change($0)) } }
            #elseif canImport(Network)
            group.addTask { await PathMonitorWatch().run { feed.yield(.change($0)) } }
            #endif
            var clusters: [ObjectIdentifier: (client: KubeClient, recovery: ClusterRecovery)] = [:]
            // Each cluster's way out as last seen, to tell which changes concern it.
            var ways: [ObjectIdentifier: WayOut] = [:]
            var nextTick: ContinuousClock.Instant?
            for await input in inputs {
                let now = ContinuousClock.now
                var due: [(KubeClient, [ClusterRecovery.Action])] = []
                switch input {
                case .change(let change):
                    let settle = change.kind == .wake ? Duration.zero : self.settings.settle
                    for client in self.cache.activeClients where client.networkObserverCount > 0 {
                        let id = ObjectIdentifier(client)
                        let way = Self.wayOut(client)
                        defer { ways[id] = way }
                        // A container's veth appearing says nothing about a cluster reached
                        // through wlan0.
                        guard WayOut.concerns(change, before: ways[id], now: way) else { continue }
                        var recovery = clusters[id]?.recovery ?? ClusterRecovery()
                        due.append((client, recovery.changed(reason: change.reason, settle: settle, now: now)))
                        clusters[id] = (client, recovery)
                    }
                case .probed(let id, let error):
                    guard var cluster = clusters[id] else { break }
                    due.append((cluster.client, cluster.recovery.probed(error: error, now: now, date: Date())))
                    clusters[id] = cluster
                case .beat:
                    for client in self.cache.activeClients where ways[ObjectIdentifier(client)] == nil && client.networkObserverCount > 0 {
                        ways[ObjectIdentifier(client)] = Self.wayOut(client)
                    }
                case .tick:
                    nextTick = nil
                    for (id, var cluster) in clusters {
                        due.append((cluster.client, cluster.recovery.tick(now: now)))
                        clusters[id] = cluster
                    }
                }
                for (client, actions) in due {
                    for action in actions { self.perform(action, client: client, group: &group, feed: feed) }
                }
                // Clusters at rest whose forwards are gone are forgotten.
                clusters = clusters.filter { $0.value.recovery.state != .steady || $0.value.client.networkObserverCount > 0 }
                if let deadline = clusters.values.compactMap(\.recovery.deadline).min(), nextTick.map({ deadline < $0 }) ?? true {
                    nextTick = deadline
                    group.addTask {
                        do { try await Task.sleep(until: deadline) } catch { return }
                        feed.yield(.tick)
                    }
                }
            }
            group.cancelAll()
        }
    }

    private static func wayOut(_ client: KubeClient) -> WayOut {
        guard let url = URLComponents(string: client.context.server), let host = url.host else { return .unknown }
        return WayOut.toward(host: host, port: url.port ?? 443)
    }

    private func perform(
        _ action: ClusterRecovery.Action, client: KubeClient, group: inout DiscardingTaskGroup, feed: AsyncStream<Input>.Continuation
    ) {
        let cluster = "cluster '\(client.context.clusterName)'"
        switch action {
        case .announce(let notice):
            self.logger.notice("\(cluster): \(notice.message)")
            client.announce(notice)
        case .probe:
            let timeout = self.settings.probeTimeout
            group.addTask {
                let error = await client.probe(timeout: timeout)
                feed.yield(.probed(ObjectIdentifier(client), error: error.map { ErrorSummary.oneLine($0.message) }))
            }
        case .reestablish(let outage, let reason):
            let forwards = client.networkObserverCount
            let notice = NetworkNotice.reestablished(outage: outage, reason: reason)
            self.logger.notice("\(cluster): \(notice.message); \(forwards) forward\(forwards == 1 ? "" : "s") re-established")
            self.cache.reestablish(client, outage: outage, reason: reason)
        }
    }
}
