import KfwdVersion

/// How kfwd deploys its relays (a setting, the same for every forward of a supervisor).
public struct RelaySettings: Sendable, Hashable {
    /// The relay image of this kfwd's version: a relay speaks the protocol of the kfwd that
    /// deploys it.
    public static let defaultImage = "ghcr.io/kfwd/kfwd-relay:\(KfwdVersion.current)"
    /// The port the relay listens on inside its pod (krelay's, 9527).
    public static let port = 9527

    public var image: String
    public var cpuLimit: String
    public var memoryLimit: String
    /// The relay exits after this long with no kfwd connected.
    public var idleExitSeconds: Int
    /// A UDP flow with no datagram either way for this long is closed.
    public var flowIdleSeconds: Int
    /// How long to wait for a new relay pod to become ready.
    public var readyTimeout: Duration

    public init(
        image: String = RelaySettings.defaultImage, cpuLimit: String = "100m", memoryLimit: String = "64Mi", idleExitSeconds: Int = 300,
        flowIdleSeconds: Int = 120, readyTimeout: Duration = .seconds(60)
    ) {
        self.image = image
        self.cpuLimit = cpuLimit
        self.memoryLimit = memoryLimit
        self.idleExitSeconds = idleExitSeconds
        self.flowIdleSeconds = flowIdleSeconds
        self.readyTimeout = readyTimeout
    }
}
