import Foundation

/// Who a relay pod belongs to, as its labels say. The user name is normalised once, here, and
/// the same value is used to create, find and delete relays (kftray creates with a cleaned name
/// and deletes with the raw one, so users with capitals in their login leak relays).
public struct RelayOwner: Sendable, Hashable {
    /// The login as a label value: lowercase letters, digits and `-`, at most 40 characters.
    public let user: String
    /// This machine's name as a label value, so that a relay is only judged stale by the
    /// machine that can tell whether its kfwd still runs.
    public let host: String
    public let pid: Int32

    public init(user: String, host: String, pid: Int32) {
        self.user = Self.labelValue(user, fallback: "user")
        self.host = Self.labelValue(host, fallback: "host")
        self.pid = pid
    }

    /// The user running this process (`$USER`, else the password database), on this host.
    public static var current: RelayOwner {
        let environment = ProcessInfo.processInfo.environment
        let user = environment["USER"] ?? environment["LOGNAME"] ?? getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "user"
        return RelayOwner(user: user, host: ProcessInfo.processInfo.hostName, pid: getpid())
    }

    /// A Kubernetes label value and DNS label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
    static func labelValue(_ text: String, fallback: String) -> String {
        var value = ""
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                value.unicodeScalars.append(scalar)
            } else if !value.isEmpty, !value.hasSuffix("-") {
                value += "-"
            }
        }
        while value.hasSuffix("-") { value.removeLast() }
        value = String(value.prefix(40))
        while value.hasSuffix("-") { value.removeLast() }
        return value.isEmpty ? fallback : value
    }
}
