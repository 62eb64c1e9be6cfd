/// One `[LOCAL:]REMOTE` pair in kubectl's syntax: `8080:80`, `80` (the same port locally),
/// `:80` or `0:80` (a free local port).
public struct PortMapping: Sendable, Hashable, CustomStringConvertible {
    /// The local port; 0 until a free one is picked.
    public var local: Int
    public let remote: Int

    public init(local: Int, remote: Int) {
        self.local = local
        self.remote = remote
    }

    public init(parsing text: String) throws(ForwardError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else {
            throw ForwardError(code: .invalidSpec, "port '\(text)' is not [LOCAL:]REMOTE: write e.g. 8080:80, 80, or :80 for a free local port")
        }
        let remoteText = parts.last!
        guard let remote = Int(remoteText), (1...65535).contains(remote) else {
            throw ForwardError(code: .invalidSpec, "remote port '\(remoteText)' in '\(text)' must be a number from 1 to 65535")
        }
        var local = remote
        if parts.count == 2 {
            if parts[0].isEmpty {
                local = 0
            } else {
                guard let value = Int(parts[0]), (0...65535).contains(value) else {
                    throw ForwardError(code: .invalidSpec, "local port '\(parts[0])' in '\(text)' must be a number from 0 to 65535 (0 picks a free port)")
                }
                local = value
            }
        }
        self.init(local: local, remote: remote)
    }

    public var description: String { "\(self.local):\(self.remote)" }
}
