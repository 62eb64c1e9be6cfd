/// The remote half of a port pair, as kubectl takes it: a number, or a name. For `svc/NAME` a
/// name is the Service port's name; for pods, Deployments and selectors it is a container
/// port's name, looked up in each pod's spec (pods of one Deployment may number it differently
/// during a rollout).
public enum RemotePort: Sendable, Hashable, CustomStringConvertible {
    case number(Int)
    case name(String)

    /// Parses a port number from 1 to 65535 or a port name as Kubernetes defines it
    /// (`IsValidPortName` in apimachinery's validation: at most 15 lower-case letters, digits
    /// and single inner hyphens, with at least one letter).
    public init(parsing text: String) throws(ForwardError) {
        if let number = Int(text) {
            guard (1...65535).contains(number) else {
                throw ForwardError(code: .invalidSpec, "remote port '\(text)' must be a number from 1 to 65535, or a port name such as http")
            }
            self = .number(number)
            return
        }
        guard Self.isPortName(text) else {
            throw ForwardError(
                code: .invalidSpec,
                "remote port '\(text)' is neither a number from 1 to 65535 nor a port name (up to 15 lower-case letters, digits and inner hyphens, e.g. http)"
            )
        }
        self = .name(text)
    }

    /// The number, when the port was given as one.
    public var number: Int? {
        if case .number(let number) = self { number } else { nil }
    }

    public var description: String {
        switch self {
        case .number(let number): String(number)
        case .name(let name): name
        }
    }

    private static func isPortName(_ text: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        return (1...15).contains(text.count) && text.allSatisfy(allowed.contains) && text.contains(where: \.isLetter)
            && !text.hasPrefix("-") && !text.hasSuffix("-") && !text.contains("--")
    }
}

extension RemotePort: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) {
        self = .number(value)
    }
}
