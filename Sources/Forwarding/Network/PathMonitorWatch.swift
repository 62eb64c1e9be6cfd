#if canImport(Network)
import Dispatch
import Network

/// macOS's news of the network: `NWPathMonitor`'s path updates (an interface coming or going,
/// the path satisfied or not), the counterpart of ``NetlinkWatch`` on Linux. Wake from sleep is
/// the ``ClockWatch``'s on both. Compiled only where the Network framework exists: the CI
/// machines are Linux, so this is neither built nor tested there.
struct PathMonitorWatch: Sendable {
    /// Reports every change of the path after the first (which is the path as it is at start),
    /// until cancelled.
    func run(_ report: @escaping @Sendable (NetworkChange) -> Void) async {
        let monitor = NWPathMonitor()
        let (paths, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(8))
        monitor.pathUpdateHandler = { path in continuation.yield(Self.describe(path)) }
        monitor.start(queue: DispatchQueue(label: "kfwd.network.path"))
        defer { monitor.cancel() }
        var last: String?
        // Ends when the task is cancelled.
        for await path in paths {
            defer { last = path }
            guard let last, last != path else { continue }
            report(NetworkChange(.network, "network path now \(path), was \(last)"))
        }
    }

    /// The path in a few words: its status and interfaces (`satisfied: en0, utun3`).
    static func describe(_ path: NWPath) -> String {
        let status =
            switch path.status {
            case .satisfied: "satisfied"
            case .unsatisfied: "unsatisfied"
            case .requiresConnection: "requires a connection"
            @unknown default: "unknown"
            }
        let interfaces = path.availableInterfaces.map(\.name)
        return interfaces.isEmpty ? status : "\(status): \(interfaces.joined(separator: ", "))"
    }
}
#endif
