/// kfwd's settings, kept in the store (one row per setting, so that adding one needs no
/// migration); absent ones have their defaults.
public struct StoreSettings: Codable, Sendable, Equatable {
    /// Seconds a new connection waits for a ready pod.
    public var holdSeconds: Double = 30
    /// The port-forward protocol of saved forwards that do not name one: `auto`, `tunnel`,
    /// `spdy` or `websocket`.
    public var transport: String = "auto"
    /// The kfwd-relay image; nil for the default of this kfwd's version.
    public var relayImage: String?
    /// The dashboard's port on 127.0.0.1.
    public var dashboardPort: Int = 8787
    /// Seconds network changes must stop before the clusters are probed and their connections
    /// re-established.
    public var networkSettleSeconds: Double = 2
    /// Minutes between the daemon's pulls of the sync sources (`kfwd sync add`); 0: only
    /// `kfwd sync` pulls.
    public var syncIntervalMinutes: Double = 60

    public init() {}

    /// A setting never saved keeps its default (the rows hold only what was saved); rows of
    /// settings kfwd no longer has are ignored.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = StoreSettings()
        self.holdSeconds = try container.decodeIfPresent(Double.self, forKey: .holdSeconds) ?? defaults.holdSeconds
        self.transport = try container.decodeIfPresent(String.self, forKey: .transport) ?? defaults.transport
        self.relayImage = try container.decodeIfPresent(String.self, forKey: .relayImage) ?? defaults.relayImage
        self.dashboardPort = try container.decodeIfPresent(Int.self, forKey: .dashboardPort) ?? defaults.dashboardPort
        self.networkSettleSeconds = try container.decodeIfPresent(Double.self, forKey: .networkSettleSeconds) ?? defaults.networkSettleSeconds
        self.syncIntervalMinutes = try container.decodeIfPresent(Double.self, forKey: .syncIntervalMinutes) ?? defaults.syncIntervalMinutes
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case holdSeconds = "hold_seconds"
        case transport
        case relayImage = "relay_image"
        case dashboardPort = "dashboard_port"
        case networkSettleSeconds = "network_settle_seconds"
        case syncIntervalMinutes = "sync_interval_minutes"
    }
}
