/// One entry of a relay's allow-list: a transport and a target, written `udp/10.96.0.10:53`,
/// `tcp/db.internal:5432` or `tcp/[fd00::5]:80`. A relay serves these and nothing else, so that
/// a pod that learns its port cannot use it to reach the rest of the cluster.
public struct RelayRule: Sendable, Hashable, CustomStringConvertible {
    public let transport: RelayTransport
    public let target: RelayTarget

    public init(_ transport: RelayTransport, _ target: RelayTarget) {
        self.transport = transport
        self.target = target
    }

    /// - Throws: ``RelayProtocolError`` naming the entry and what is wrong with it.
    public init(parsing text: String) throws(RelayProtocolError) {
        let trimmed = Self.trimmed(text)
        guard let slash = trimmed.firstIndex(of: "/") else {
            throw RelayProtocolError(.malformedHeader, "allowed target \"\(trimmed)\" needs a protocol: tcp/HOST:PORT or udp/HOST:PORT")
        }
        let transport: RelayTransport
        switch trimmed[..<slash].lowercased() {
        case "tcp": transport = .tcp
        case "udp": transport = .udp
        default:
            throw RelayProtocolError(.malformedHeader, "allowed target \"\(trimmed)\": the protocol must be tcp or udp")
        }
        do {
            self.init(transport, try RelayTarget(parsing: String(trimmed[trimmed.index(after: slash)...])))
        } catch {
            throw RelayProtocolError(.malformedHeader, "allowed target \"\(trimmed)\": \(error.message)")
        }
    }

    public var description: String { "\(self.transport)/\(self.target)" }

    private static func trimmed(_ text: some StringProtocol) -> String {
        String(text.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }

    /// Parses a comma-separated list, as the relay reads it from its environment.
    public static func parseList(_ text: String) throws(RelayProtocolError) -> Set<RelayRule> {
        var rules: Set<RelayRule> = []
        for entry in text.split(separator: ",") where !Self.trimmed(entry).isEmpty {
            rules.insert(try RelayRule(parsing: String(entry)))
        }
        return rules
    }

    /// The form ``parseList(_:)`` reads, sorted so that the same set is always the same text.
    public static func formatList(_ rules: some Sequence<RelayRule>) -> String {
        rules.map(\.description).sorted().joined(separator: ",")
    }
}
