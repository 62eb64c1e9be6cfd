import Foundation
import Yams

/// A YAML or JSON syntax error in one line that says where: the parsers' own messages either
/// span several lines (Yams quotes the text) or give a character offset (Foundation's JSON).
public enum SyntaxErrorText {
    /// "line 3, column 7: PROBLEM" for a YAML syntax error (possibly inside a `DecodingError`).
    public static func yaml(_ error: any Error) -> String? {
        var error = error
        if case DecodingError.dataCorrupted(let context) = error, let underlying = context.underlyingError { error = underlying }
        guard let yaml = error as? YamlError else { return nil }
        switch yaml {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            return "line \(mark.line), column \(mark.column): \(detail)"
        case .reader(let problem, let offset, _, let text):
            guard let offset else { return problem }
            let (line, column) = Self.position(of: offset, in: Data(text.utf8))
            return "line \(line), column \(column): \(problem)"
        default:
            return nil
        }
    }

    /// "line 2, column 19: PROBLEM" for Foundation's JSON syntax errors, which give a character
    /// offset; nil for other errors.
    public static func json(_ error: any Error, in data: Data) -> String? {
        guard let description = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String, let range = description.range(of: #"character (\d+)"#, options: .regularExpression),
            let offset = Int(description[range].dropFirst("character ".count))
        else { return nil }
        let (line, column) = Self.position(of: offset, in: data)
        let problem = description[..<range.lowerBound].replacingOccurrences(of: " around ", with: "").trimmingCharacters(in: .whitespaces)
        return "line \(line), column \(column): \(problem.isEmpty ? "not valid JSON" : problem.lowercased())"
    }

    /// 1-based line and column (in characters) of a 0-based offset in UTF-8 text.
    static func position(of offset: Int, in data: Data) -> (line: Int, column: Int) {
        let before = String(decoding: data.prefix(max(0, offset)), as: UTF8.self)
        let lines = before.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.count, (lines.last?.count ?? 0) + 1)
    }
}
