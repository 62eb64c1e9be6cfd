/// Why the store refused a change. Nothing was written: every change is one transaction.
public struct ConfigStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One line per problem, each naming the entry (or alias) and the field.
    public let problems: [String]

    public init(_ problems: [String]) {
        self.problems = problems
    }

    public init(_ problem: String) {
        self.problems = [problem]
    }

    public var description: String { self.problems.joined(separator: "\n") }
}
