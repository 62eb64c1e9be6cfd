/// kfwd's settings, kept in the store (one row per setting, so that adding one needs no
/// migration); absent ones have their defaults.
public struct StoreSettings: Codable, Sendable, Equatable {
    /// Seconds a new connection waits for a ready pod.
    public var holdSeconds: Double = 30
    /// Streams kept open ahead per forward (WebSocket transport only).
    public var warmPoolSize: Int = 0
    /// `auto`, `tunnel`, `spdy` or `websocket`.
    public var transport: String = "auto"
    /// The kfwd-relay image; nil for the default of this kfwd's version.
    public var relayImage: String?
    /// The dashboard's port on 127.0.0.1.
    public var dashboardPort: Int = 8787
    /// Seconds the network must be stable before forwards re-establish after a change.
    public var networkSettleSeconds: Double = 2

    public init() {}

    /// A setting never saved keeps its default (the rows hold only what was saved).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = StoreSettings()
        self.holdSeconds = try container.decodeIfPresent(Double.self, forKey: .holdSeconds) ?? defaults.holdSeconds
        self.warmPoolSize = try container.decodeIfPresent(Int.self, forKey: .warmPoolSize) ?? defaults.warmPoolSize
        self.transport = try container.decodeIfPresent(String.self, forKey: .transport) ?? defaults.transport
        self.relayImage = try container.decodeIfPresent(String.self, forKey: .relayImage) ?? defaults.relayImage
        self.dashboardPort = try container.decodeIfPresent(Int.self, forKey: .dashboardPort) ?? defaults.dashboardPort
        self.networkSettleSeconds = try container.decodeIfPresent(Double.self, forKey: .networkSettleSeconds) ?? defaults.networkSettleSeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case holdSeconds = "hold_seconds"
        case warmPoolSize = "warm_pool_size"
        case transport
        case relayImage = "relay_image"
        case dashboardPort = "dashboard_port"
        case networkSettleSeconds = "network_settle_seconds"
    }
}
