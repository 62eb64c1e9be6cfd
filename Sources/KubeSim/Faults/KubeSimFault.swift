/// A network or API server fault KubeSim can play, as a user (`kubesim fault`) or a test asks
/// for it: what a laptop's network, a VPN or an apiserver restart does to a client.
public struct KubeSimFault: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Every open API connection stops carrying bytes both ways, for good, while staying
        /// open (a NAT that forgot them, a dropped VPN); new connections work.
        case silence
        /// Open and new connections hang, for `seconds`; then they carry on with what they held,
        /// as TCP does once a route is back.
        case blackhole
        /// The API listener and every connection close, and come back on the same port, with
        /// the same CA and state, after `seconds` (zero: at once).
        case restartAPI = "restart-api"
        /// Every client watch ends, as when an apiserver's watch cache restarts.
        case dropWatches = "drop-watches"
        /// Every client watch ends and the history is compacted: resuming from any
        /// resourceVersion seen so far gets 410 Expired, so clients must list again.
        case expireWatches = "expire-watches"
    }

    public let kind: Kind
    /// How long the fault lasts, for the kinds that end (blackhole, restart-api).
    public let seconds: Double?

    /// - Throws: ``KubeSimError`` when `seconds` does not fit the kind.
    public init(_ kind: Kind, seconds: Double? = nil) throws(KubeSimError) {
        if let seconds {
            guard seconds >= 0, seconds <= 3600 else {
                throw KubeSimError(message: "--for \(seconds) is out of range: give 0 to 3600 seconds")
            }
            guard kind == .blackhole || kind == .restartAPI else {
                throw KubeSimError(message: "\(kind.rawValue) takes no --for: it happens once (use blackhole --for SECONDS for an outage that ends)")
            }
        }
        if kind == .blackhole, seconds == nil {
            throw KubeSimError(message: "blackhole needs --for SECONDS: how long connections hang")
        }
        self.kind = kind
        self.seconds = seconds
    }

    /// What the fault does, as `kubesim fault` reports it.
    public var summary: String {
        switch self.kind {
        case .silence: "every open API connection is silenced for good; new connections work"
        case .blackhole: "every API connection, open and new, hangs for \(Self.format(self.seconds ?? 0)) s"
        case .restartAPI: "the API server restarts (down for \(Self.format(self.seconds ?? 0)) s, same port, CA and state)"
        case .dropWatches: "every client watch was ended"
        case .expireWatches: "every client watch was ended; resuming from an earlier resourceVersion gets 410 Expired"
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
