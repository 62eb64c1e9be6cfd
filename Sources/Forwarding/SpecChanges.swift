/// What makes a set of running forwards the set a file now asks for (`kfwd up` following its
/// project file): new aliases start, missing ones stop, changed ones restart with their new spec,
/// and the others are left alone, their connections untouched.
public struct SpecChanges: Sendable, Equatable {
    public var start: [ForwardSpec] = []
    public var stop: [String] = []
    public var reload: [ForwardSpec] = []

    public init(start: [ForwardSpec] = [], stop: [String] = [], reload: [ForwardSpec] = []) {
        self.start = start
        self.stop = stop
        self.reload = reload
    }

    /// - Parameters:
    ///   - running: the specs of the forwards running (or retrying) now.
    ///   - wanted: the specs the file gives, in its order.
    public static func between(running: [ForwardSpec], wanted: [ForwardSpec]) -> SpecChanges {
        let current = Dictionary(running.map { ($0.alias, $0) }, uniquingKeysWith: { first, _ in first })
        let aliases = Set(wanted.map(\.alias))
        var changes = SpecChanges()
        for spec in wanted {
            switch current[spec.alias] {
            case nil: changes.start.append(spec)
            case let old? where old != spec: changes.reload.append(spec)
            default: break
            }
        }
        changes.stop = running.map(\.alias).filter { !aliases.contains($0) }
        return changes
    }

    public var isEmpty: Bool { self.start.isEmpty && self.stop.isEmpty && self.reload.isEmpty }
}
