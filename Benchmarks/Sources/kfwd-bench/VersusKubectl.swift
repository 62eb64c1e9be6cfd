import Foundation
import KubeClient
import KubeSim
import Logging
import NIOCore

/// kfwd against kubectl port-forward, both as separate processes forwarding to the same
/// KubeSim pod (a TCP echo), in one run, with a direct loopback connection to the pod's backend
/// as the limit, and a ``CopyRelay`` process (plain copies to the backend, no TLS) as the floor
/// of a forwarder's CPU per GiB:
/// - one connection moving `BENCH_GIB` GiB each way through the echo;
/// - CPU seconds of the forwarding process per GiB (from /proc, user + system);
/// - new connection + first 64-byte echo, p50 and p99, one at a time and 100 at once.
///
/// Every forwarder runs for the whole benchmark; the measurements go round them `BENCH_ROUNDS`
/// times, new connections taking the paths in turn, and each figure is the median of its rounds
/// (a 2-core VM moves single runs by 30%).
/// kfwd runs from `.build/release/kfwd` of the main package (build it first; `BENCH_KFWD` names
/// another binary); kubectl from PATH. `BENCH_KFWD_B` names a second kfwd binary, measured in the
/// same rounds over the two SPDY transports (an A/B of a change, free of run-to-run drift).
/// `BENCH_API_DELAY_MS` puts the API server that far away each way (``DelayProxy``), as it is
/// from a laptop; the direct path still goes straight to the pod's backend.
enum VersusKubectl {
    struct Forwarder {
        let name: String
        let executable: String
        let arguments: [String]
        let environment: [String: String]
    }

    /// One round's figures; ``median(_:)`` folds rounds.
    struct Figures {
        var throughput = 0.0
        var cpuPerGiB = 0.0
        var systemPerGiB = 0.0
        var sequentialP50 = 0.0
        var sequentialP99 = 0.0
        var concurrentP50 = 0.0
        var concurrentP99 = 0.0

        init() {}

        init(throughput: Double, cpu: CPU, sequential: [Double], concurrent: [Double]) {
            self.throughput = throughput
            self.cpuPerGiB = cpu.user + cpu.system
            self.systemPerGiB = cpu.system
            self.sequentialP50 = Probe.percentile(sequential, 0.5)
            self.sequentialP99 = Probe.percentile(sequential, 0.99)
            self.concurrentP50 = Probe.percentile(concurrent, 0.5)
            self.concurrentP99 = Probe.percentile(concurrent, 0.99)
        }

        static func median(_ rounds: [Figures]) -> Figures {
            func middle(_ value: (Figures) -> Double) -> Double { Probe.percentile(rounds.map(value), 0.5) }
            var figures = Figures()
            figures.throughput = middle(\.throughput)
            figures.cpuPerGiB = middle(\.cpuPerGiB)
            figures.systemPerGiB = middle(\.systemPerGiB)
            figures.sequentialP50 = middle(\.sequentialP50)
            figures.sequentialP99 = middle(\.sequentialP99)
            figures.concurrentP50 = middle(\.concurrentP50)
            figures.concurrentP99 = middle(\.concurrentP99)
            return figures
        }
    }

    /// A forwarder process and the local port it listens on.
    struct Running {
        let process: Process
        let port: Int
        let exited: DispatchSemaphore

        /// SIGTERM, and SIGKILL after 10 s: a forwarder that ignores SIGTERM must not keep the
        /// benchmark from reporting.
        func stop() {
            self.process.terminate()
            if self.exited.wait(timeout: .now() + 10) == .timedOut {
                kill(self.process.processIdentifier, SIGKILL)
                self.exited.wait()
            }
        }
    }

    static func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let gib = Double(environment["BENCH_GIB"] ?? "1") ?? 1
        let bursts = Int(environment["BENCH_BURSTS"] ?? "5") ?? 5
        let rounds = Int(environment["BENCH_ROUNDS"] ?? "3") ?? 3
        let apiDelay = environment["BENCH_API_DELAY_MS"].flatMap(Double.init) ?? 0
        let kfwd = environment["BENCH_KFWD"] ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/release/kfwd").path
        guard FileManager.default.isExecutableFile(atPath: kfwd) else {
            Swift.print("build kfwd first: swift build -c release --product kfwd (looked for \(kfwd))")
            return
        }
        var configuration = KubeSim.Configuration()
        configuration.objects = try ManifestLoader.parse(Bench.manifest)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        try await KubeSim.withRunning(configuration, logger: logger) { sim in
            try await sim.waitUntil { $0.object("pods", name: "echo")?[path: ["status", "phase"]]?.stringValue == "Running" }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-bench-\(getpid())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let kubeconfig = directory.appendingPathComponent("kubeconfig").path
            try sim.writeKubeconfig(to: kubeconfig)
            if apiDelay > 0 {
                let proxy = try await DelayProxy.start(
                    target: try SocketAddress(ipAddress: "127.0.0.1", port: sim.port), delay: .microseconds(Int64(apiDelay * 1000))
                )
                let proxyPort = proxy.localAddress?.port ?? 0
                let text = try String(contentsOfFile: kubeconfig, encoding: .utf8).replacingOccurrences(of: sim.url, with: "https://127.0.0.1:\(proxyPort)")
                try Data(text.utf8).write(to: URL(fileURLWithPath: kubeconfig))
                Swift.print("The API server is \(apiDelay) ms away each way (a proxy holds every chunk that long).")
            }
            guard let backend = sim.backendEndpoint(pod: "echo", port: 7000) else { fatalError("no backend") }
            let common = ["KUBECONFIG": kubeconfig, "HOME": directory.path]
            let other = environment["BENCH_KFWD_B"].map { binary in
                ["tunnel", "spdy"].map {
                    Forwarder(name: "kfwd B (\($0))", executable: binary, arguments: ["forward", "pod/echo", ":7000", "--transport", $0], environment: common)
                }
            }
            let forwarders = [
                Forwarder(name: "kubectl (tunnel)", executable: "/usr/bin/env", arguments: ["kubectl", "port-forward", "pod/echo", ":7000"], environment: common),
                Forwarder(
                    name: "kubectl (spdy)", executable: "/usr/bin/env", arguments: ["kubectl", "port-forward", "pod/echo", ":7000"],
                    environment: common.merging(["KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"]) { $1 }
                ),
                Forwarder(name: "kfwd (tunnel)", executable: kfwd, arguments: ["forward", "pod/echo", ":7000", "--transport", "tunnel"], environment: common),
                Forwarder(name: "kfwd (spdy)", executable: kfwd, arguments: ["forward", "pod/echo", ":7000", "--transport", "spdy"], environment: common),
                Forwarder(name: "kfwd (websocket)", executable: kfwd, arguments: ["forward", "pod/echo", ":7000", "--transport", "websocket"], environment: common),
                Forwarder(
                    name: "copy relay, no TLS (floor)", executable: Bundle.main.executablePath ?? CommandLine.arguments[0],
                    arguments: ["copy-relay", backend.host, String(backend.port)], environment: [:]
                ),
            ] + (other ?? [])
            let bytes = Int(gib * Double(1 << 30))
            let running = try forwarders.map { try Self.start($0) }
            defer { for forwarder in running { forwarder.stop() } }
            let paths = [Path(name: "direct loopback", host: backend.host, port: backend.port, pid: nil)]
                + zip(forwarders, running).map { Path(name: $0.name, host: "127.0.0.1", port: $1.port, pid: $1.process.processIdentifier) }
            var measured: [String: [Figures]] = [:]
            for _ in 0..<rounds {
                for (name, figures) in try await Self.measure(paths, bytes: bytes, bursts: bursts) {
                    measured[name, default: []].append(figures)
                }
            }
            Self.report(paths.map { ($0.name, Figures.median(measured[$0.name] ?? [])) }, gib: gib, rounds: rounds)
        }
    }

    private static func start(_ forwarder: Forwarder) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: forwarder.executable)
        process.arguments = forwarder.arguments
        process.environment = ProcessInfo.processInfo.environment.merging(forwarder.environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let port = try Self.forwardedPort(output.fileHandleForReading)
        // Drain the rest so the forwarder never blocks on a full pipe ("Handling connection" lines).
        Thread { while !output.fileHandleForReading.availableData.isEmpty {} }.start()
        return Running(process: process, port: port, exited: exited)
    }

    /// Where a measurement connects: the pod's backend directly, or a forwarder's local port.
    struct Path {
        let name: String
        let host: String
        let port: Int
        let pid: Int32?
    }

    /// One round through every path: throughput (and the forwarder's CPU for it) path after
    /// path, then new connections one at a time and 100 at once taking the paths in turn,
    /// connection by connection and burst by burst, so that the machine's drift (a 2-core VM
    /// shared with others moves by 30% within a minute) falls on every path alike.
    private static func measure(_ paths: [Path], bytes: Int, bursts: Int) async throws -> [String: Figures] {
        var throughput: [String: (rate: Double, cpu: CPU)] = [:]
        for path in paths {
            _ = try await Probe.throughput(host: path.host, port: path.port, bytes: 8 << 20)
            let before = path.pid.map(CPU.init) ?? CPU()
            let rate = try await Probe.throughput(host: path.host, port: path.port, bytes: bytes)
            let after = path.pid.map(CPU.init) ?? CPU()
            let gib = Double(bytes) / Double(1 << 30)
            throughput[path.name] = (rate, CPU(user: (after.user - before.user) / gib, system: (after.system - before.system) / gib))
        }
        var sequential: [String: [Double]] = [:]
        for index in 0..<200 {
            for path in Self.turn(paths, index) {
                sequential[path.name, default: []] += try await Probe.setup(host: path.host, port: path.port, count: 1)
            }
        }
        var concurrent: [String: [Double]] = [:]
        for index in 0..<bursts {
            for path in Self.turn(paths, index) {
                concurrent[path.name, default: []] += try await Probe.concurrentSetup(host: path.host, port: path.port, count: 100)
            }
        }
        return Dictionary(uniqueKeysWithValues: paths.map { path in
            (path.name, Figures(
                throughput: throughput[path.name]?.rate ?? 0, cpu: throughput[path.name]?.cpu ?? CPU(),
                sequential: sequential[path.name] ?? [], concurrent: concurrent[path.name] ?? []
            ))
        })
    }

    /// The paths starting at a different one each time, so that none always follows another.
    private static func turn(_ paths: [Path], _ index: Int) -> [Path] {
        let start = index % paths.count
        return Array(paths[start...] + paths[..<start])
    }

    /// The port of the first `Forwarding from 127.0.0.1:PORT` line.
    private static func forwardedPort(_ handle: FileHandle) throws -> Int {
        var text = ""
        while true {
            let data = handle.availableData
            if data.isEmpty { throw ProbeError("the forwarder ended before listening: \(text)") }
            text += String(decoding: data, as: UTF8.self)
            if let range = text.range(of: "Forwarding from 127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).first != nil { return port }
            }
        }
    }

    /// User and system CPU seconds of a process so far (/proc/PID/stat fields 14 and 15), or
    /// per GiB once divided.
    struct CPU {
        var user = 0.0
        var system = 0.0

        init(user: Double = 0, system: Double = 0) {
            self.user = user
            self.system = system
        }

        init(pid: Int32) {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let end = stat.lastIndex(of: ")")
            else {
                self.init()
                return
            }
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
            let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
            self.init(user: (Double(fields[11]) ?? 0) / tick, system: (Double(fields[12]) ?? 0) / tick)
        }
    }

    private static func report(_ results: [(String, Figures)], gib: Double, rounds: Int) {
        let kubectl = Dictionary(uniqueKeysWithValues: results.filter { $0.0.hasPrefix("kubectl") }.map { ($0.0, $0.1) })
        Swift.print("Medians of \(rounds) rounds.\n")
        Swift.print("| forwarder | echo MiB/s, 1 connection, \(gib) GiB each way | CPU s per GiB | of which system | new conn p50 (µs) | p99 | 100 at once p50 | p99 |")
        Swift.print("|---|---|---|---|---|---|---|---|")
        for (name, f) in results {
            Swift.print(String(
                format: "| %@ | %.0f | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f |", name, f.throughput, f.cpuPerGiB, f.systemPerGiB, f.sequentialP50,
                f.sequentialP99, f.concurrentP50, f.concurrentP99
            ))
        }
        Swift.print("")
        Swift.print("| kfwd / kubectl, same transport | throughput (target ≥ 1.3) | CPU per GiB (≤ 0.5) | new conn p50 (≤ 0.5) | p99 (≤ 0.5) | 100 at once p50 (≤ 0.5) | p99 (≤ 0.5) |")
        Swift.print("|---|---|---|---|---|---|---|")
        for (name, f) in results where name.hasPrefix("kfwd") {
            let transport = name.contains("spdy") ? "kubectl (spdy)" : "kubectl (tunnel)"
            guard let base = kubectl[transport] else { continue }
            Swift.print(String(
                format: "| %@ vs %@ | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |", name, transport, f.throughput / base.throughput,
                f.cpuPerGiB / base.cpuPerGiB, f.sequentialP50 / base.sequentialP50, f.sequentialP99 / base.sequentialP99,
                f.concurrentP50 / base.concurrentP50, f.concurrentP99 / base.concurrentP99
            ))
        }
    }
}
