import Foundation
import NIOCore
import NIOPosix

/// Blocking-socket clients for the measurements: plain POSIX calls on one thread, so the
/// client's own cost is the same on both paths.
enum Probe {
    /// Sends `bytes` through an echo server while reading them back; MiB/s of the round trip.
    static func throughput(host: String, port: Int, bytes: Int) async throws -> Double {
        try await Self.onThread {
            let socket = try Self.connect(host: host, port: port)
            defer { close(socket) }
            let chunk = [UInt8](repeating: 0x5A, count: 64 << 10)
            let start = ContinuousClock.now
            let writer = Thread {
                var sent = 0
                while sent < bytes {
                    let n = chunk.withUnsafeBytes { send(socket, $0.baseAddress!, min($0.count, bytes - sent), 0) }
                    if n <= 0 { return }
                    sent += n
                }
            }
            writer.start()
            var received = 0
            var buffer = [UInt8](repeating: 0, count: 256 << 10)
            while received < bytes {
                let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress!, $0.count, 0) }
                if n <= 0 { throw ProbeError("connection ended after \(received) bytes") }
                received += n
            }
            let seconds = Self.seconds(ContinuousClock.now - start)
            return Double(bytes) / Double(1 << 20) / seconds
        }
    }

    /// Round-trip times of 64-byte messages on one connection, in microseconds.
    static func latency(host: String, port: Int, roundTrips: Int) async throws -> [Double] {
        try await Self.onThread {
            let socket = try Self.connect(host: host, port: port)
            defer { close(socket) }
            return try (0..<roundTrips).map { _ in try Self.echo64(socket) }
        }
    }

    /// Connect plus the first 64-byte echo on a fresh connection, in microseconds.
    static func setup(host: String, port: Int, count: Int) async throws -> [Double] {
        try await Self.onThread {
            try (0..<count).map { _ in
                let start = ContinuousClock.now
                let socket = try Self.connect(host: host, port: port)
                defer { close(socket) }
                _ = try Self.echo64(socket)
                return Self.seconds(ContinuousClock.now - start) * 1_000_000
            }
        }
    }

    /// `count` new connections at once (one thread each), each timed from its connect to its
    /// first 64-byte echo, in microseconds.
    static func concurrentSetup(host: String, port: Int, count: Int) async throws -> [Double] {
        try await withThrowingTaskGroup(of: Double.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await Self.onThread {
                        let start = ContinuousClock.now
                        let socket = try Self.connect(host: host, port: port)
                        defer { close(socket) }
                        _ = try Self.echo64(socket)
                        return Self.seconds(ContinuousClock.now - start) * 1_000_000
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// One `GET /` with `Connection: close` on a new connection: whether a 200 came back
    /// whole, and how long it took (microseconds).
    static func httpGet(host: String, port: Int) async -> (ok: Bool, micros: Double) {
        (try? await Self.onThread {
            let start = ContinuousClock.now
            guard let socket = try? Self.connect(host: host, port: port) else { return (false, 0) }
            defer { close(socket) }
            let request = Array("GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n".utf8)
            guard request.withUnsafeBytes({ send(socket, $0.baseAddress!, $0.count, 0) }) == request.count else { return (false, 0) }
            var answer: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress!, $0.count, 0) }
                if n <= 0 { break }
                answer.append(contentsOf: buffer[0..<n])
            }
            let text = String(decoding: answer, as: UTF8.self)
            return (text.hasPrefix("HTTP/1.1 200") && text.contains("pod: "), Self.seconds(ContinuousClock.now - start) * 1_000_000)
        }) ?? (false, 0)
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    private static func echo64(_ socket: Int32) throws -> Double {
        var message = [UInt8](repeating: 0x42, count: 64)
        let start = ContinuousClock.now
        guard message.withUnsafeBytes({ send(socket, $0.baseAddress!, 64, 0) }) == 64 else { throw ProbeError("send failed") }
        var received = 0
        while received < 64 {
            let n = message.withUnsafeMutableBytes { recv(socket, $0.baseAddress! + received, 64 - received, 0) }
            if n <= 0 { throw ProbeError("connection ended") }
            received += n
        }
        return Self.seconds(ContinuousClock.now - start) * 1_000_000
    }

    static func connect(host: String, port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(socket)
            throw ProbeError("cannot connect to \(host):\(port)")
        }
        return socket
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Runs blocking socket code on its own thread, off the cooperative pool.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

struct ProbeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
