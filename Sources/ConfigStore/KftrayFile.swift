import Foundation
import KubeClient

/// A kftray config file: a JSON array of configs (or one config object, as kftray's import
/// also accepts), read entry by entry so that one bad entry is reported on its own.
public struct KftrayFile: Sendable {
    /// One entry of the file: the config when it decoded, else why not; and the fields kftray
    /// does not know, which are ignored.
    public struct Entry: Sendable {
        /// 1-based position in the file.
        public let index: Int
        public let config: Result<KftrayConfig, KftrayFileError>
        public let unknownFields: [String]
    }

    public let entries: [Entry]

    /// - Throws: ``KftrayFileError`` when the text is not JSON, or not an array of objects.
    public init(data: Data) throws(KftrayFileError) {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            throw KftrayFileError("not valid JSON: \(SyntaxErrorText.json(error, in: data) ?? Self.reason(error))")
        }
        let items: [Any]
        if let array = root as? [Any] {
            items = array
        } else if root is [String: Any] {
            items = [root]
        } else {
            throw KftrayFileError("expected a JSON array of forward configs (kftray's export format)")
        }
        self.entries = items.enumerated().map { offset, item in
            let index = offset + 1
            guard let object = item as? [String: Any] else {
                return Entry(index: index, config: .failure(KftrayFileError("entry \(index) is not a JSON object")), unknownFields: [])
            }
            let unknown = object.keys.filter { !KftrayConfig.fieldNames.contains($0) }.sorted()
            do {
                let json = try JSONSerialization.data(withJSONObject: object)
                return Entry(index: index, config: .success(try JSONDecoder().decode(KftrayConfig.self, from: json)), unknownFields: unknown)
            } catch {
                return Entry(index: index, config: .failure(KftrayFileError("entry \(index): \(Self.reason(error))")), unknownFields: unknown)
            }
        }
    }

    /// A decoding error in the user's terms: the field and what it should hold.
    private static func reason(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return (error as NSError).localizedDescription }
        switch error {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let field = context.codingPath.last?.stringValue ?? "?"
            let expected = type == String.self ? "a string" : type == Bool.self ? "true or false" : "a number"
            return "field '\(field)' must be \(expected)"
        case .dataCorrupted(let context):
            let field = context.codingPath.last?.stringValue
            return field.map { "field '\($0)': \(context.debugDescription)" } ?? context.debugDescription
        case .keyNotFound(let key, _):
            return "field '\(key.stringValue)' is missing"
        @unknown default:
            return "\(error)"
        }
    }
}

/// A kftray config file, or one of its entries, that cannot be used; the message names the
/// entry and the field.
public struct KftrayFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}
