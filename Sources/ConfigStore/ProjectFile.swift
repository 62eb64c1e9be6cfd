import Forwarding
import Foundation
import KubeClient
import Yams

/// A repository's forwards: `kfwd.yaml` (or `.kfwd.yaml`) at its root, a list of forwards in
/// kfwd's own terms and defaults for them, which `kfwd up` runs from anywhere in the repository.
///
/// ```yaml
/// defaults: {context: kind-shop, namespace: shop}
/// forwards:
/// - {alias: web, target: svc/web, ports: ["8080:80"]}
/// - {alias: db, target: svc/postgres, ports: [5432], tags: [db]}
/// ```
public struct ProjectFile: Sendable, Equatable {
    public static let names = ["kfwd.yaml", ".kfwd.yaml"]

    public struct Forward: Sendable, Equatable {
        public let alias: String
        public let config: ForwardConfig

        public init(alias: String, config: ForwardConfig) {
            self.alias = alias
            self.config = config
        }
    }

    public let path: String
    public let forwards: [Forward]

    /// The project file of the repository `directory` is in: the first `kfwd.yaml` or
    /// `.kfwd.yaml` found from `directory` up to the repository's root (the folder with `.git`),
    /// or up to the file system's root when it is in none.
    public static func find(from directory: String) -> String? {
        var folder = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            for name in Self.names {
                let candidate = folder.appendingPathComponent(name).path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
            }
            let atRoot = FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path)
            let parent = folder.deletingLastPathComponent()
            if atRoot || parent.path == folder.path { return nil }
            folder = parent
        }
    }

    /// The repository's name, for messages and groups: the project file's folder.
    public var name: String { URL(fileURLWithPath: self.path).deletingLastPathComponent().lastPathComponent }

    private struct Document: Decodable {
        struct Defaults: Decodable {
            var context: String?
            var namespace: String?
            var kubeconfig: String?
        }

        var defaults: Defaults?
        var forwards: [AliasedForwardConfig]?

        init() {}
    }

    /// Reads and checks the file: every forward passes the one check every forward passes.
    /// - Throws: ``ProjectFileError`` naming the file and, for YAML, the line and column, or
    ///   the forward and what is wrong with it.
    public static func load(_ path: String) throws(ProjectFileError) -> ProjectFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ProjectFileError("cannot read \(path): \((error as NSError).localizedDescription)")
        }
        let document: Document
        do {
            document = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? Document() : try YAMLDecoder().decode(Document.self, from: text)
        } catch {
            throw ProjectFileError("\(path): \(SyntaxErrorText.yaml(error) ?? Self.describe(error))")
        }
        var forwards: [Forward] = []
        for (index, entry) in (document.forwards ?? []).enumerated() {
            guard let alias = entry.alias, !alias.isEmpty else {
                throw ProjectFileError("\(path): forward \(index + 1) has no alias: give each forward one (alias: web)")
            }
            guard !forwards.contains(where: { $0.alias == alias }) else {
                throw ProjectFileError("\(path): the alias '\(alias)' is given twice: each forward needs its own")
            }
            var config = entry.config
            config.context = config.context ?? document.defaults?.context
            config.namespace = config.namespace ?? document.defaults?.namespace
            config.kubeconfig = config.kubeconfig ?? document.defaults?.kubeconfig
            if config.context == "current" { config.context = nil }
            do throws(ForwardError) { _ = try config.forwardSpec(alias: alias) } catch {
                throw ProjectFileError("\(path): forward '\(alias)': \(error.message)")
            }
            forwards.append(Forward(alias: alias, config: config))
        }
        return ProjectFile(path: path, forwards: forwards)
    }

    /// A decoding error as the field it is about and why.
    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let field = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return "\(field.isEmpty ? "" : "\(field): ")\(context.debugDescription)"
        case DecodingError.keyNotFound(let key, _):
            return "\(key.stringValue) is missing"
        default:
            return "\(error)"
        }
    }
}

/// A project file that cannot be used: which, where, and why.
public struct ProjectFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}
