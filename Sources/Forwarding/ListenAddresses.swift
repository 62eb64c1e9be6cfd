/// The local addresses a forward listens on, from `--address` (a comma-separated list;
/// `localhost` stands for both 127.0.0.1 and ::1, as in kubectl).
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

    public init(parsing text: String) throws(ForwardError) {
        var addresses: [Address] = []
        for piece in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !piece.isEmpty {
            if piece == "localhost" {
                addresses.append(contentsOf: Self.localhost.addresses)
                continue
            }
            let host = piece.hasPrefix("[") && piece.hasSuffix("]") ? String(piece.dropFirst().dropLast()) : piece
            guard Self.isIPAddress(host) else {
                throw ForwardError(code: .invalidSpec, "--address '\(piece)' is not an IP address: use e.g. 127.0.0.1, ::1, 0.0.0.0 or localhost")
            }
            addresses.append(Address(host: host, optional: false))
        }
        guard !addresses.isEmpty else { throw ForwardError(code: .invalidSpec, "--address is empty: give at least one address, e.g. 127.0.0.1") }
        var seen = Set<String>()
        self.addresses = addresses.filter { seen.insert($0.host).inserted }
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
