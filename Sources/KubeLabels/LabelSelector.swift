import Foundation

/// A parsed `labelSelector` query parameter, with the grammar of
/// kubernetes/apimachinery pkg/labels/selector.go: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
/// `k notin (a,b)`, `k`, `!k`, comma-separated and ANDed.
public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    public var requirements: [Requirement]

    public static let everything = LabelSelector(requirements: [])

    public init(requirements: [Requirement]) {
        self.requirements = requirements
    }

    /// The selector of a Service or a Deployment's `matchLabels`: equality, ANDed.
    public init(matchLabels: [String: String]) {
        self.requirements = matchLabels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    public init(parsing text: String) throws(LabelSelectorError) {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let term = term.trimmingCharacters(in: .whitespaces)
            if term.isEmpty { continue }
            requirements.append(try Self.parseTerm(term))
        }
        self.requirements = requirements
    }

    public func matches(_ labels: [String: String]) -> Bool {
        self.requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            }
        }
    }

    /// The canonical string form, as `metav1.FormatLabelSelector` prints it for a Scale's status.
    public var description: String {
        self.requirements.map { requirement in
            switch requirement {
            case .equals(let key, let value): "\(key)=\(value)"
            case .notEquals(let key, let value): "\(key)!=\(value)"
            case .isIn(let key, let values): "\(key) in (\(values.sorted().joined(separator: ",")))"
            case .notIn(let key, let values): "\(key) notin (\(values.sorted().joined(separator: ",")))"
            case .exists(let key): key
            case .doesNotExist(let key): "!\(key)"
            }
        }.joined(separator: ",")
    }

    /// Splits on commas that are not inside a parenthesised value set.
    private static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1; current.append(character)
            case ")": depth -= 1; current.append(character)
            case "," where depth == 0: terms.append(current); current = ""
            default: current.append(character)
            }
        }
        terms.append(current)
        return terms
    }

    private static func parseTerm(_ term: String) throws(LabelSelectorError) -> Requirement {
        if term.hasPrefix("!") {
            return .doesNotExist(try self.validKey(String(term.dropFirst()), in: term))
        }
        for (separator, make) in [
            ("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals),
        ] as [(String, (String, String) -> Requirement)] {
            if let range = term.range(of: separator) {
                let key = try self.validKey(String(term[..<range.lowerBound]), in: term)
                let value = term[range.upperBound...].trimmingCharacters(in: .whitespaces)
                return make(key, value)
            }
        }
        let words = term.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2 {
            let rest = words[1].trimmingCharacters(in: .whitespaces)
            for (op, make) in [("notin", Requirement.notIn), ("in", Requirement.isIn)]
            as [(String, (String, Set<String>) -> Requirement)] where rest.hasPrefix(op) {
                let list = rest.dropFirst(op.count).trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")") else { break }
                let values = list.dropFirst().dropLast().split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                return make(try self.validKey(words[0], in: term), Set(values))
            }
            throw LabelSelectorError("unable to parse requirement: found '\(words[1])', expected: in, notin, =, ==, !=")
        }
        return .exists(try self.validKey(term, in: term))
    }

    private static func validKey(_ key: String, in term: String) throws(LabelSelectorError) -> String {
        let key = key.trimmingCharacters(in: .whitespaces)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")
        guard !key.isEmpty, key.allSatisfy(allowed.contains) else {
            throw LabelSelectorError("unable to parse requirement: invalid label key \"\(key)\" in \"\(term)\"")
        }
        return key
    }
}
