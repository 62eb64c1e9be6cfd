import Forwarding
import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A shared config kept in a git repository (`kfwd sync add NAME URL`): a clone under kfwd's
/// home made and pulled with the system `git` (so SSH keys, credential helpers and certificate
/// checks are git's own), whose files (kfwd's `kfwd.yaml` format, or kftray's JSON) are
/// imported as the group `NAME`, replaced, not merged, on each pull.
public struct SyncSource: Codable, Sendable, Equatable {
    public let name: String
    public let url: String
    /// Files in the repository; several are one group.
    public let paths: [String]
    /// A branch or tag; nil for the remote's default branch.
    public let ref: String?

    public init(name: String, url: String, paths: [String], ref: String?) {
        self.name = name
        self.url = url
        self.paths = paths
        self.ref = ref
    }

    /// Where the sources live: `HOME/sync/NAME/{source.json,repo}`.
    public static func directory(home: String) -> URL { URL(fileURLWithPath: home).appendingPathComponent("sync") }

    public static func all(home: String) -> [SyncSource] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Self.directory(home: home).path)) ?? []
        return names.sorted().compactMap { name in
            (try? Data(contentsOf: Self.directory(home: home).appendingPathComponent("\(name)/source.json")))
                .flatMap { try? JSONDecoder().decode(SyncSource.self, from: $0) }
        }
    }

    private func folder(_ home: String) -> URL { Self.directory(home: home).appendingPathComponent(self.name) }

    /// Clones the repository and remembers the source.
    /// - Throws: ``ConfigStoreError`` with git's own words when the clone fails.
    public func add(home: String) async throws(ConfigStoreError) {
        guard self.name.range(of: #"^[a-z0-9][a-z0-9-]{0,62}$"#, options: .regularExpression) != nil else {
            throw ConfigStoreError("sync name '\(self.name)' must be lower-case letters, digits and hyphens (it names a group)")
        }
        let folder = self.folder(home)
        guard !FileManager.default.fileExists(atPath: folder.path) else {
            throw ConfigStoreError("a sync named '\(self.name)' exists: kfwd sync rm \(self.name) first, or choose another name")
        }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw ConfigStoreError("cannot create \(folder.path): \((error as NSError).localizedDescription)")
        }
        var arguments = ["clone", "--quiet", "--depth", "1"]
        if let ref = self.ref { arguments += ["--branch", ref] }
        do throws(ConfigStoreError) {
            try await Self.git(arguments + ["--", self.url, folder.appendingPathComponent("repo").path])
            let data: Data
            do { data = try JSONEncoder().encode(self) } catch { throw ConfigStoreError("cannot encode the sync source: \(error)") }
            do { try data.write(to: folder.appendingPathComponent("source.json")) } catch {
                throw ConfigStoreError("cannot write \(folder.path)/source.json: \((error as NSError).localizedDescription)")
            }
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
    }

    /// Pulls the latest commit of the ref (the clone made to match it exactly).
    /// - Returns: the commit now checked out, short.
    public func pull(home: String) async throws(ConfigStoreError) -> String {
        let repo = self.folder(home).appendingPathComponent("repo").path
        try await Self.git(["-C", repo, "fetch", "--quiet", "--depth", "1", "origin", self.ref ?? "HEAD"])
        try await Self.git(["-C", repo, "reset", "--quiet", "--hard", "FETCH_HEAD"])
        return try await Self.git(["-C", repo, "rev-parse", "--short", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The forwards the source's files hold, read from the clone as it is.
    public func forwards(home: String) throws(ConfigStoreError) -> [(alias: String, config: ForwardConfig)] {
        let repo = self.folder(home).appendingPathComponent("repo")
        var forwards: [(alias: String, config: ForwardConfig)] = []
        for path in self.paths {
            let file = repo.appendingPathComponent(path).path
            guard FileManager.default.fileExists(atPath: file) else { throw ConfigStoreError("\(self.name): \(path) is not in the repository") }
            if path.hasSuffix(".json") {
                let parsed: KftrayFile
                do { parsed = try KftrayFile(data: try Data(contentsOf: URL(fileURLWithPath: file))) } catch let error as KftrayFileError {
                    throw ConfigStoreError("\(self.name): \(path): \(error.message)")
                } catch {
                    throw ConfigStoreError("\(self.name): cannot read \(path)")
                }
                for entry in parsed.entries {
                    do throws(ForwardError) {
                        let config: KftrayConfig
                        switch entry.config {
                        case .success(let value): config = value
                        case .failure(let error): throw ForwardError(code: .invalidSpec, error.message)
                        }
                        forwards.append((config.effectiveAlias, try ForwardConfig(kftray: config)))
                    } catch {
                        throw ConfigStoreError("\(self.name): \(path) entry \(entry.index): \(error.message)")
                    }
                }
            } else {
                do throws(ProjectFileError) { forwards += try ProjectFile.load(file).forwards.map { ($0.alias, $0.config) } } catch {
                    throw ConfigStoreError("\(self.name): \(error.message)")
                }
            }
        }
        return forwards
    }

    /// Forgets the source and its clone.
    public func remove(home: String) {
        try? FileManager.default.removeItem(at: self.folder(home))
    }

    /// Runs git; its output, or its own error words.
    @discardableResult
    static func git(_ arguments: [String]) async throws(ConfigStoreError) -> String {
        let result: (status: TerminationStatus, output: String?, error: String?)
        do {
            let run = try await Subprocess.run(
                .name("git"), arguments: Arguments(arguments), environment: .inherit.updating(["GIT_TERMINAL_PROMPT": "0"]),
                output: .string(limit: 1 << 20), error: .string(limit: 1 << 16)
            )
            result = (run.terminationStatus, run.standardOutput, run.standardError)
        } catch {
            throw ConfigStoreError("cannot run git (is it installed?): \(error)")
        }
        guard result.status.isSuccess else {
            let said = result.error?.split(separator: "\n").last.map(String.init) ?? "\(result.status)"
            throw ConfigStoreError("git \(arguments.first { !$0.hasPrefix("-") && $0 != "-C" } ?? ""): \(said)")
        }
        return result.output ?? ""
    }
}
