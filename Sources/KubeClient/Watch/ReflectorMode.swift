/// How a reflector follows its objects: what the user's rights allow, best first.
public enum ReflectorMode: Sendable, Hashable, CustomStringConvertible {
    /// List, then watch (needs list and watch).
    case watch
    /// List again at each interval (needs list): changes are seen up to an interval late.
    case list(every: Duration)
    /// Get one object by name at each interval (needs get): the store holds it, or nothing
    /// while it does not exist.
    case get(name: String, every: Duration)

    public var description: String {
        switch self {
        case .watch: "watching"
        case .list(let every): "listing every \(Self.seconds(every))"
        case .get(_, let every): "reading every \(Self.seconds(every))"
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
