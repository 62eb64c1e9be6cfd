import Forwarding
import Foundation

/// What a `kfwd up` running a repository's project file publishes for `kfwd env`: its
/// forwards' states and sockets, in one file per project under kfwd's home (`up/`), rewritten
/// atomically when one of them changes and removed when it ends. A file whose process is gone
/// (killed) is not believed.
public struct ProjectRun: Codable, Sendable, Equatable {
    public struct Forward: Codable, Sendable, Equatable {
        public var alias: String
        public var status: String
        public var listening: [String]

        public init(alias: String, status: String, listening: [String]) {
            self.alias = alias
            self.status = status
            self.listening = listening
        }

        /// A supervised forward, as the file holds it.
        public init(_ status: ForwardStatus) {
            self.init(alias: status.alias, status: status.state.name, listening: status.listening.map(\.description))
        }
    }

    public var pid: Int32
    /// The project file's path.
    public var project: String
    public var forwards: [Forward]

    public init(pid: Int32 = ProcessInfo.processInfo.processIdentifier, project: String, forwards: [Forward]) {
        self.pid = pid
        self.project = project
        self.forwards = forwards
    }


    /// Where the run of `project` is published.
    public static func path(for project: String, paths: DaemonPaths) -> String {
        let name = String(project.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        return (paths.home as NSString).appendingPathComponent("up/\(name).json")
    }

    /// The running `kfwd up` of `project`, if any.
    public static func current(of project: String, paths: DaemonPaths) -> ProjectRun? {
        guard let data = FileManager.default.contents(atPath: Self.path(for: project, paths: paths)),
            let run = try? JSONDecoder().decode(ProjectRun.self, from: data), run.project == project, ProcessLiveness.isAlive(run.pid)
        else { return nil }
        return run
    }

    public func write(paths: DaemonPaths) throws {
        let path = Self.path(for: self.project, paths: paths)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public func remove(paths: DaemonPaths) {
        try? FileManager.default.removeItem(atPath: Self.path(for: self.project, paths: paths))
    }

    /// The forwards as a report's entries, for ``ForwardEnvironment``.
    public var report: [StatusReport.Forward] {
        self.forwards.map { StatusReport.Forward(alias: $0.alias, status: $0.status, listening: $0.listening) }
    }
}
