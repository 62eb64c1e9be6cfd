import Foundation
import Synchronization

/// A user's curl loop against a forwarded port, with curl itself: one request at a time, a new
/// connection each, every 100 ms, each given `maxTime` seconds (curl's `--max-time`, where
/// ``RequestLoop``'s in-process requests wait 30 s); every outcome kept with when it started
/// and ended.
final class CurlLoop: Sendable {
    struct Request: Sendable {
        let started: ContinuousClock.Instant
        let ended: ContinuousClock.Instant
        let ok: Bool
    }

    let port: Int
    let maxTime: Double
    private let done = Mutex<[Request]>([])

    init(port: Int, maxTime: Double = 2) {
        self.port = port
        self.maxTime = maxTime
    }

    var requests: [Request] { self.done.withLock { $0 } }

    /// Requests until cancelled.
    func run() async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let result = try? await runCommand(
                "curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", String(self.maxTime), "http://127.0.0.1:\(self.port)/"]
            )
            if Task.isCancelled { return }
            let request = Request(started: started, ended: .now, ok: result?.stdout == "200")
            self.done.withLock { $0.append(request) }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Runs the loop beside `body`, and stops it when `body` returns.
    func during<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Waits until a request that started at or after `instant` succeeded, up to `timeout`;
    /// returns when it ended.
    func firstSuccess(startedAfter instant: ContinuousClock.Instant, timeout: Duration = .seconds(60)) async -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let first = self.requests.first(where: { $0.ok && $0.started >= instant }) { return first.ended }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Failed requests among those that started in `range`.
    func failures(startedIn range: Range<ContinuousClock.Instant>) -> Int {
        self.requests.filter { range.contains($0.started) && !$0.ok }.count
    }

    func count(startedIn range: Range<ContinuousClock.Instant>) -> Int {
        self.requests.filter { range.contains($0.started) }.count
    }
}
