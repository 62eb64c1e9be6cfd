/// One `[LOCAL:]REMOTE` pair in kubectl's syntax: `8080:80`, `80` (the same port locally),
/// `:80` or `0:80` (a free local port), `8080:http` (a named remote port).
public struct PortMapping: Sendable, Hashable, CustomStringConvertible {
    /// The local port; 0 until a free one is picked.
    public var local: Int
    public let remote: RemotePort

    public init(local: Int, remote: RemotePort) {
        self.local = local
        self.remote = remote
    }

    public init(local: Int, remote: Int) {
        self.init(local: local, remote: .number(remote))
    }

    public init(parsing text: String) throws(ForwardError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else {
            throw ForwardError(code: .invalidSpec, "port '\(text)' is not [LOCAL:]REMOTE: write e.g. 8080:80, 80, or :80 for a free local port")
        }
        let remote = try RemotePort(parsing: parts.last!)
        guard parts.count == 2 else {
            // kubectl reads the Service or pod first to number `http` locally; kfwd listens
            // before it reads anything, so the local port must be given.
            guard let number = remote.number else {
                throw ForwardError(code: .invalidSpec, "port '\(text)' names the remote port: give the local one too, e.g. 8080:\(text), or :\(text) for a free one")
            }
            self.init(local: number, remote: remote)
            return
        }
        var local = 0
        if !parts[0].isEmpty {
            guard let value = Int(parts[0]), (0...65535).contains(value) else {
                throw ForwardError(code: .invalidSpec, "local port '\(parts[0])' in '\(text)' must be a number from 0 to 65535 (0 picks a free port)")
            }
            local = value
        }
        self.init(local: local, remote: remote)
    }

    public var description: String { "\(self.local):\(self.remote)" }
}
