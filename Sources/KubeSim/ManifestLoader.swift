import Foundation
import Yams

/// Reads ordinary Kubernetes YAML (several documents per file, `List` objects, directories of
/// `.yaml`/`.yml`/`.json` files) into JSON objects.
public enum ManifestLoader {
    public static func load(path: String) throws -> [JSON] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ManifestError(message: "manifest '\(path)' does not exist")
        }
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
            return try names.flatMap { try self.load(path: (path as NSString).appendingPathComponent($0)) }
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        do {
            return try self.parse(text)
        } catch let error as ManifestError {
            throw ManifestError(message: "\(path): \(error.message)")
        } catch {
            throw ManifestError(message: "\(path): not valid YAML: \(error)")
        }
    }

    public static func parse(_ text: String) throws -> [JSON] {
        var objects: [JSON] = []
        for document in try Yams.load_all(yaml: text) {
            let object = try self.json(document)
            if object == .null { continue }
            if let items = object["items"]?.arrayValue, object["kind"]?.stringValue?.hasSuffix("List") == true {
                objects.append(contentsOf: items)
            } else {
                objects.append(object)
            }
        }
        return objects
    }

    private static func json(_ value: Any) throws -> JSON {
        switch value {
        case is NSNull: return .null
        case let value as Bool: return .bool(value)
        case let value as Int: return .number(Double(value))
        case let value as Double: return .number(value)
        case let value as String: return .string(value)
        case let value as [Any]: return .array(try value.map(self.json))
        case let value as [AnyHashable: Any]:
            var fields: [String: JSON] = [:]
            for (key, item) in value { fields["\(key)"] = try self.json(item) }
            return .object(fields)
        case let value as Date: return .string(Timestamp.string(value))
        default: throw ManifestError(message: "unsupported YAML value \(value)")
        }
    }
}

/// A manifest that cannot be read, naming the file and the problem.
public struct ManifestError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
