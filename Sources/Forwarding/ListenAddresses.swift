/// The local addresses a forward listens on, from `--address` (a comma-separated list;
/// `localhost` stands for both 127.0.0.1 and ::1, as in kubectl; `auto` for a loopback address of
/// the forward's own).
public struct ListenAddresses: Sendable, Hashable {
    public struct Address: Sendable, Hashable {
        public let host: String
        /// Part of `localhost`: a machine without IPv6 may skip it.
        public let optional: Bool
    }

    public let addresses: [Address]

    /// The default, as kubectl's: both loopbacks, since clients such as Node.js 17 and later
    /// resolve `localhost` to ::1 first; ::1 is skipped where the machine has no IPv6.
    public static let localhost = ListenAddresses(addresses: [Address(host: "127.0.0.1", optional: false), Address(host: "::1", optional: true)])

    private init(addresses: [Address]) {
        self.addresses = addresses
    }

    /// - Parameter alias: the forward's, which `auto` derives its address from.
    public init(parsing text: String, alias: String) throws(ForwardError) {
        var addresses: [Address] = []
        for piece in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !piece.isEmpty {
            if piece == "localhost" {
                addresses.append(contentsOf: Self.localhost.addresses)
                continue
            }
            if piece == "auto" {
                addresses.append(Address(host: Self.loopback(for: alias), optional: false))
                continue
            }
            let host = piece.hasPrefix("[") && piece.hasSuffix("]") ? String(piece.dropFirst().dropLast()) : piece
            guard Self.isIPAddress(host) else {
                throw ForwardError(code: .invalidSpec, "--address '\(piece)' is not an IP address: use e.g. 127.0.0.1, ::1, 0.0.0.0, localhost or auto")
            }
            addresses.append(Address(host: host, optional: false))
        }
        guard !addresses.isEmpty else { throw ForwardError(code: .invalidSpec, "--address is empty: give at least one address, e.g. 127.0.0.1") }
        var seen = Set<String>()
        self.addresses = addresses.filter { seen.insert($0.host).inserted }
    }

    /// The forward's own loopback address: the same for an alias on every machine and every run
    /// (FNV-1a of the alias), in 127.1.0.1-127.254.255.254, away from 127.0.0.1 and the ends of
    /// each /24, so that forwards on the same port (five PostgreSQLs on 5432) each have one.
    /// Linux routes all of 127/8 to `lo`; macOS needs the alias on `lo0` (the bind error says
    /// the command).
    public static func loopback(for alias: String) -> String {
        let hash = FNV1a.hash(alias)
        return "127.\(1 + hash % 254).\((hash >> 8) % 256).\(1 + (hash >> 16) % 254)"
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
