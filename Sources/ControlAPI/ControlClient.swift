import AsyncHTTPClient
import ConfigStore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CLI's side of the control API: requests over the daemon's Unix socket.
public struct ControlClient: Sendable {
    public let paths: DaemonPaths

    public init(paths: DaemonPaths) {
        self.paths = paths
    }

    /// The daemon's report; nil when no daemon answers on the socket.
    public func status() async -> StatusReport? {
        guard self.isListening() else { return nil }
        return try? await self.send(.GET, "/v1/status", body: ControlRequest?.none, as: StatusReport.self)
    }

    /// Whether something accepts connections on the socket now. Asked first because the HTTP
    /// client retries a refused connection until its deadline, and a socket file left by a
    /// killed daemon refuses at once.
    public func isListening() -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(self.paths.socket.utf8CString)
        guard path.count <= MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.withUnsafeBytes { raw.copyMemory(from: $0) }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }

    public func start(_ request: ControlRequest) async throws -> ControlResult {
        try await self.send(.POST, "/v1/start", body: request, as: ControlResult.self)
    }

    public func stop(_ request: ControlRequest) async throws -> ControlResult {
        try await self.send(.POST, "/v1/stop", body: request, as: ControlResult.self)
    }

    public func restart(_ request: ControlRequest) async throws -> ControlResult {
        try await self.send(.POST, "/v1/restart", body: request, as: ControlResult.self)
    }

    /// The daemon's event stream, given to `record` as it comes: each forward's state first,
    /// then every change, until the daemon stops or the task is cancelled.
    public func events(_ record: (ForwardEventRecord) -> Void) async throws {
        try await self.stream("/v1/events", as: ForwardEventRecord.self, follow: true, record)
    }

    /// Every saved forward with its live state, given to `each` now and again on every change,
    /// until the daemon stops or the task is cancelled.
    public func forwards(_ each: (ForwardsSnapshot) -> Void) async throws {
        try await self.stream("/v1/forwards?follow=true", as: ForwardsSnapshot.self, follow: true, each)
    }

    /// Tells a running daemon that the saved forwards changed (the CLI wrote the store), so that
    /// its dashboard shows them; nothing when no daemon runs, which reads the store when it starts.
    public func storeChanged() async {
        guard self.isListening(), let url = URL(httpURLWithSocketPath: self.paths.socket, uri: "/v1/store-changed") else { return }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        _ = try? await HTTPClient.shared.execute(request, timeout: .seconds(5))
    }

    public func dashboard() async throws -> DashboardInfo {
        try await self.send(.GET, "/v1/dashboard", body: ControlRequest?.none, as: DashboardInfo.self)
    }

    /// The daemon's log lines about `alias` (all when nil), given to `line` as they come;
    /// with `follow`, until the daemon stops or the task is cancelled.
    public func logs(alias: String?, follow: Bool, line: (LogEntry) -> Void) async throws {
        var components = URLComponents()
        components.path = "/v1/logs"
        components.queryItems = [URLQueryItem(name: "follow", value: follow ? "true" : "false")] + (alias.map { [URLQueryItem(name: "alias", value: $0)] } ?? [])
        try await self.stream(components.string ?? "/v1/logs", as: LogEntry.self, follow: follow, line)
    }

    /// An NDJSON answer, one decoded value per line as it comes.
    private func stream<Line: Decodable>(_ uri: String, as: Line.Type, follow: Bool, _ each: (Line) -> Void) async throws {
        guard let url = URL(httpURLWithSocketPath: self.paths.socket, uri: uri) else {
            throw DaemonError("the control socket path \(self.paths.socket) cannot be used")
        }
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url.absoluteString), timeout: follow ? .hours(24 * 365) : .seconds(30))
        guard response.status == .ok else { throw DaemonError("the daemon answered \(response.status.code)") }
        // Split as watch bodies are (KubeClient+Watch).
        for try await text in response.body.splitLines(omittingEmptySubsequences: true, maximumBufferSize: 1 << 20) {
            each(try StatusReport.decoder.decode(Line.self, from: text))
        }
    }

    /// What each saved forward is doing: the daemon's report when one runs, else
    /// ``offlineStatus(_:)``. `kfwd status` and `kfwd list` both read this, one truth.
    public func report(_ store: ConfigStore) async throws(ConfigStoreError) -> StatusReport {
        if let live = await self.status() { return live }
        return try Self.offlineStatus(store)
    }

    /// What is true without a daemon: every saved forward stopped (a state row left by a
    /// daemon that died does not count).
    public static func offlineStatus(_ store: ConfigStore) throws(ConfigStoreError) -> StatusReport {
        let forwards = try store.forwards().map { StatusReport.Forward(alias: $0.alias) }
        return StatusReport(daemon: .init(pid: nil, running: false), forwards: forwards)
    }

    private func send<Body: Encodable, Answer: Decodable>(_ method: HTTPMethod, _ path: String, body: Body?, as: Answer.Type) async throws -> Answer {
        guard let url = URL(httpURLWithSocketPath: self.paths.socket, uri: path) else {
            throw DaemonError("the control socket path \(self.paths.socket) cannot be used")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else {
            throw DaemonError("the daemon answered \(response.status.code): \(String(buffer: bytes))")
        }
        return try StatusReport.decoder.decode(Answer.self, from: bytes)
    }
}

extension ControlClient {
    /// Starts a daemon in the background (its own session, its output in the kfwd home's
    /// `daemon.log`) unless one answers, and returns once it serves requests.
    /// - Parameter executable: the kfwd binary, run as `kfwd daemon`.
    /// - Throws: ``DaemonError`` with the end of its log when it could not start.
    public func ensureDaemon(executable: String) async throws {
        if await self.status() != nil { return }
        try FileManager.default.createDirectory(atPath: self.paths.home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let process = Process()
        let setsid = "/usr/bin/setsid"
        if FileManager.default.isExecutableFile(atPath: setsid) {
            process.executableURL = URL(fileURLWithPath: setsid)
            process.arguments = [executable, "daemon", "--detach-log", self.paths.log]
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["daemon", "--detach-log", self.paths.log]
        }
        let ready = Pipe()
        process.standardOutput = ready
        process.standardError = ready
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Ours closed, the pipe ends when the daemon's ends do (it exits, or moves to its log).
        try? ready.fileHandleForWriting.close()
        // The daemon says it is ready on this pipe, then moves its output to its log: wait for
        // the line (or the pipe's end, when it could not start).
        let reader = ready.fileHandleForReading
        let (started, said) = await withCheckedContinuation { (continuation: CheckedContinuation<(Bool, String), Never>) in
            // A pipe read blocks: off the cooperative pool.
            DispatchQueue.global().async {
                var said = ""
                while true {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    said += String(decoding: chunk, as: UTF8.self)
                    if said.split(separator: "\n").contains(where: { $0.hasPrefix("kfwd daemon ready") }) {
                        continuation.resume(returning: (true, said))
                        return
                    }
                }
                continuation.resume(returning: (false, said))
            }
        }
        try? reader.close()
        guard started else {
            throw DaemonError("the daemon did not start:\n\(said.isEmpty ? "(no output; see \(self.paths.log))" : said)")
        }
    }
}
