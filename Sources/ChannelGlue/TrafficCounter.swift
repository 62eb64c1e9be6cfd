import Synchronization

/// Bytes a forward carried, counted on the data path and read by whoever reports them
/// (status, dashboard, metrics) without a lock or an event per read.
public final class TrafficCounter: Sendable {
    private let toCluster = Atomic<Int64>(0)
    private let fromCluster = Atomic<Int64>(0)

    public init() {}

    /// Bytes local clients sent, on their way to the cluster.
    public var bytesToCluster: Int64 { self.toCluster.load(ordering: .relaxed) }
    /// Bytes the cluster sent back to local clients.
    public var bytesFromCluster: Int64 { self.fromCluster.load(ordering: .relaxed) }

    public func countToCluster(_ bytes: Int) {
        self.toCluster.add(Int64(bytes), ordering: .relaxed)
    }

    public func countFromCluster(_ bytes: Int) {
        self.fromCluster.add(Int64(bytes), ordering: .relaxed)
    }
}
