import Foundation
import Yams

/// Finds, reads and merges kubeconfig files the way client-go does (tools/clientcmd/loader.go):
/// `--kubeconfig` alone and required; else every file of `$KUBECONFIG` (missing ones skipped),
/// the first file to name a cluster, user or context winning it whole, and the first non-empty
/// `current-context` winning; else `~/.kube/config`. Relative paths in an entry are resolved
/// against the directory of the file the entry came from.
public struct KubeconfigLoader: Sendable {
    /// Where to look: an explicit file, else the environment.
    public var explicitPath: String?
    public var environment: [String: String]

    public init(explicitPath: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.explicitPath = explicitPath
        self.environment = environment
    }

    /// The files that will be read, in precedence order.
    public var paths: [String] {
        if let explicitPath { return [explicitPath] }
        if let list = self.environment["KUBECONFIG"], !list.isEmpty {
            var seen = Set<String>()
            return list.split(separator: ":").map(String.init).filter { !$0.isEmpty && seen.insert($0).inserted }
        }
        let home = self.environment["HOME"] ?? NSHomeDirectory()
        return ["\(home)/.kube/config"]
    }

    /// Reads and merges the kubeconfig.
    /// - Throws: ``KubeError`` naming the file when it is missing (explicit path), unreadable or malformed.
    public func load() throws(KubeError) -> Kubeconfig {
        var merged = Kubeconfig()
        var found = false
        for path in self.paths {
            guard FileManager.default.fileExists(atPath: path) else {
                if self.explicitPath != nil {
                    throw KubeError.config("kubeconfig '\(path)' does not exist: check the --kubeconfig path")
                }
                continue
            }
            found = true
            let file = try Self.read(path)
            Self.merge(file, into: &merged)
        }
        if !found {
            throw KubeError.config(
                "no kubeconfig found (looked at \(self.paths.joined(separator: ", "))): set KUBECONFIG or pass --kubeconfig"
            )
        }
        return merged
    }

    /// Parses one file, making its relative paths absolute.
    static func read(_ path: String) throws(KubeError) -> Kubeconfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubeError.config("cannot read kubeconfig '\(path)': \(error.localizedDescription)")
        }
        var config: Kubeconfig
        do {
            config = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? Kubeconfig() : try YAMLDecoder().decode(Kubeconfig.self, from: text)
        } catch {
            throw KubeError.config("kubeconfig '\(path)' is not valid: \(Self.describe(error))")
        }
        let directory = (path as NSString).deletingLastPathComponent
        func absolute(_ value: String?) -> String? {
            guard let value, !value.isEmpty, !value.hasPrefix("/") else { return value }
            return ((directory as NSString).appendingPathComponent(value) as NSString).standardizingPath
        }
        for index in config.clusters?.indices ?? [].indices {
            config.clusters![index].cluster.certificateAuthority = absolute(config.clusters![index].cluster.certificateAuthority)
        }
        for index in config.users?.indices ?? [].indices {
            var user = config.users![index].user
            user.clientCertificate = absolute(user.clientCertificate)
            user.clientKey = absolute(user.clientKey)
            user.tokenFile = absolute(user.tokenFile)
            // A command with a path separator is relative to the file; a bare name is looked up on PATH.
            if let command = user.exec?.command, command.contains("/") { user.exec?.command = absolute(command)! }
            config.users![index].user = user
        }
        return config
    }

    static func merge(_ file: Kubeconfig, into merged: inout Kubeconfig) {
        func add<T>(_ items: [T]?, to list: inout [T]?, name: (T) -> String) {
            var existing = list ?? []
            for item in items ?? [] where !existing.contains(where: { name($0) == name(item) }) {
                existing.append(item)
            }
            list = existing
        }
        add(file.clusters, to: &merged.clusters, name: \.name)
        add(file.users, to: &merged.users, name: \.name)
        add(file.contexts, to: &merged.contexts, name: \.name)
        if (merged.currentContext ?? "").isEmpty, let current = file.currentContext, !current.isEmpty {
            merged.currentContext = current
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let syntax = SyntaxErrorText.yaml(error) { return syntax }
        if let decoding = error as? DecodingError {
            switch decoding {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
                let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
            @unknown default:
                return "\(error)"
            }
        }
        return "\(error)"
    }
}
