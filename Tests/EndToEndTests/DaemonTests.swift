import ConfigStore
import ControlAPI
import Forwarding
import Foundation
import NIOCore
import NIOPosix
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The daemon tells the truth: started in the background by kfwd start, killed with SIGKILL,
/// started again; one per user; a socket only its user can use.
@Suite struct DaemonTests {
    struct Status: Decodable {
        struct Daemon: Decodable {
            let pid: Int32?
            let running: Bool
        }

        struct Forward: Decodable {
            let alias: String
            let status: String
            let pods: [String]
            let listening: [String]
        }

        let daemon: Daemon
        let forwards: [Forward]
    }

    static func status(_ home: String) async throws -> Status {
        let result = try await runCommand(kfwdPath, ["status", "--json"], environment: ["KFWD_HOME": home])
        return try JSONDecoder().decode(Status.self, from: Data(result.stdout.utf8))
    }

    /// Asks again until the report says what `done` wants (each ask is a process: no spinning).
    static func status(_ home: String, until done: (Status) -> Bool) async throws -> Status {
        for _ in 0..<200 {
            let status = try await Self.status(home)
            if done(status) { return status }
        }
        throw KubeSimTestError("kfwd status never got there")
    }

    static func answers(_ listening: String?) async throws -> Bool {
        guard let listening else { return false }
        // A lost connection waits out the limit; a slow one on a saturated machine (a first
        // connection dials its pod's session) still answers within it.
        let result = try await runCommand("curl", ["-s", "--max-time", "15", "http://\(listening)/"])
        return result.stdout.hasPrefix("pod: web-")
    }

    @Test func afterSIGKILLNothingShowsRunningAndStartBringsItBack() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await StoreCommandTests.withHome { home in
                let kfwd = { (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                #expect(try await kfwd(["add", "web", "svc/web", ":80", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                let started = try await kfwd(["start", "web"])
                // Past starting: listening (running, or waiting for the informer's first list on a loaded machine).
                #expect(started.stdout.hasPrefix("Started web\n  web: "), "\(started.stdout) \(started.stderr)")
                #expect(started.stdout.contains(", listening on 127.0.0.1:"), "\(started.stdout)")
                var status = try await Self.status(home) { $0.forwards.map(\.status) == ["running"] }
                let first = try #require(status.daemon.pid)
                defer { kill(first, SIGKILL) }
                #expect(status.daemon.running)
                #expect(status.forwards.map(\.status) == ["running"])
                #expect(status.forwards.first?.pods.count == 2)
                let port = status.forwards.first?.listening.first
                #expect(try await Self.answers(port))

                // Only this user may talk to it, and a second daemon refuses to start.
                var info = stat()
                #expect(stat(home + "/kfwd.sock", &info) == 0 && info.st_mode & 0o777 == 0o600)
                let second = try await kfwd(["daemon"])
                #expect(second.status == .exited(1))
                #expect(second.stderr.contains("another kfwd daemon is running (pid \(first))"), "\(second.stderr)")

                // Killed: nothing shows running, and nothing is.
                kill(first, SIGKILL)
                status = try await Self.status(home) { !$0.daemon.running }
                #expect(status.daemon.pid == nil)
                #expect(status.forwards.map(\.status) == ["stopped"])
                #expect(try await kfwd(["list"]).stdout.contains("stopped"))
                #expect(try await !Self.answers(port))

                // kfwd start brings it back, under a new daemon.
                let again = try await kfwd(["start", "--all"])
                #expect(again.succeeded, "\(again.stderr)")
                status = try await Self.status(home) { $0.forwards.map(\.status) == ["running"] }
                let next = try #require(status.daemon.pid)
                defer { kill(next, SIGTERM) }
                #expect(next != first)
                #expect(status.forwards.map(\.status) == ["running"])
                #expect(try await Self.answers(status.forwards.first?.listening.first))

                // Stopped on request; SIGTERM ends the daemon cleanly and leaves nothing marked running.
                #expect(try await kfwd(["stop", "web"]).stdout == "Stopped web\n")
                #expect(try await Self.status(home).forwards.map(\.status) == ["stopped"])
                #expect(try await kfwd(["start", "web"]).succeeded)
                kill(next, SIGTERM)
                while ProcessLiveness.isAlive(next) { _ = try await Self.status(home) }
                #expect(try await kfwd(["list", "-o", "json"]).stdout.contains("\"state\" : \"stopped\""))
            }
        }
    }

    /// A local client that stops reading holds back its pod's SPDY session; the daemon's log
    /// (`kfwd logs`) says so, as `kfwd forward -v` does, so that a user who wonders why a
    /// connection stalls can find out.
    /// A typo starts no daemon; a forward whose port another process holds is not "Started":
    /// its line says it retries, and why.
    @Test func aTypoStartsNoDaemonAndABusyPortIsNotCalledStarted() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await StoreCommandTests.withHome { home in
                let kfwd = { (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                let typo = try await kfwd(["start", "nosuch"])
                #expect(typo.status == .exited(1))
                #expect(typo.stderr == "error: \(ControlResult.unknownAlias("nosuch"))\n", "\(typo.stderr)")
                #expect(try await Self.status(home).daemon.running == false, "no daemon left behind")

                let blocker = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
                defer { blocker.close(promise: nil) }
                let port = blocker.localAddress!.port!
                #expect(try await kfwd(["add", "busy", "svc/web", "\(port):80", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                let started = try await kfwd(["start", "busy"])
                let pid = try await Self.status(home).daemon.pid
                defer { if let pid { kill(pid, SIGTERM) } }
                #expect(started.succeeded, "it runs and retries: \(started.stderr)")
                #expect(!started.stdout.contains("Started busy"), "\(started.stdout)")
                #expect(started.stdout.contains("busy: retrying"), "\(started.stdout)")
                #expect(started.stdout.contains("port \(port)"), "\(started.stdout)")
            }
        }
    }

    @Test func theDaemonLogSaysWhenALocalReaderHoldsItsSessionBack() async throws {
        try await SimHarness.run(manifest: TransportTests.manifest) { harness in
            try await harness.sim.waitUntil { isReady($0.object("pods", name: "echo")) }
            try await StoreCommandTests.withHome { home in
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                #expect(try await kfwd(["add", "echo", "-l", "app=echo", ":7000", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                _ = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { lines in
                    guard await lines.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(lines.all)") }
                    #expect(try await kfwd(["start", "echo"]).succeeded)
                    let status = try await Self.status(home) { $0.forwards.first?.listening.isEmpty == false }
                    guard let port = status.forwards.first?.listening.first?.split(separator: ":").last.flatMap({ Int($0) }) else {
                        throw KubeSimTestError("no port: \(status.forwards)")
                    }
                    let writer = try await EchoClient.neverReading(port: port)
                    defer { writer.cancel() }
                    // Asked again until it is there (each ask is a process: no spinning, and bounded).
                    var log = ""
                    for _ in 0..<600 where !log.contains("is not reading") { log = try await kfwd(["logs", "echo"]).stdout }
                    #expect(
                        log.contains("echo: a local connection to pod echo is not reading what the pod sends: connections sharing its session wait for it, new ones get another session"),
                        "\(log)"
                    )
                }
            }
        }
    }

    /// A daemon stopped the usual way (SIGTERM, as systemd and `kfwd daemon` in a terminal do)
    /// stops its forwards and deletes their relay pods before it exits, and exits 0.
    @Test func aDaemonStoppedWithSIGTERMDeletesItsRelayPods() async throws {
        try await RelayForwardTests.run { harness in
            try await StoreCommandTests.withHome { home in
                let kfwd = { @Sendable (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                var settings = StoreSettings()
                settings.relayImage = testRelayImage
                try ConfigStore(environment: ["KFWD_HOME": home]).update(settings)
                #expect(try await kfwd(["add", "echo", "svc/echo", ":9999", "--udp", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                let run = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { lines in
                    guard await lines.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(lines.all)") }
                    let started = try await kfwd(["start", "echo"])
                    #expect(started.succeeded, "\(started.stderr)")
                    try await harness.sim.waitUntil { sim in sim.relayPods().count == 1 }
                }
                #expect(run.status == .exited(0), "\(run.lines)")
                #expect(!run.lines.contains { $0.contains("Program crashed") || $0.contains("Fatal error") }, "\(run.lines)")
                try await harness.sim.waitUntil { sim in sim.relayPods().isEmpty }
            }
        }
    }

    /// A daemon killed while a UDP forward ran left its relay pod; the next daemon removes it at
    /// start, before anything is started in that namespace.
    @Test func aStartingDaemonRemovesTheRelayADeadOneLeft() async throws {
        try await RelayForwardTests.run { harness in
            try await StoreCommandTests.withHome { home in
                let kfwd = { (arguments: [String]) in try await runCommand(kfwdPath, arguments, environment: ["KFWD_HOME": home]) }
                var settings = StoreSettings()
                settings.relayImage = testRelayImage
                try ConfigStore(environment: ["KFWD_HOME": home]).update(settings)
                #expect(try await kfwd(["add", "echo", "svc/echo", ":9999", "--udp", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                // Saved, never started: it keeps the namespace among those the daemon looks after.
                #expect(try await kfwd(["add", "db", "ip/127.0.0.1", "5432", "--kubeconfig", harness.kubeconfigPath]).succeeded)
                let started = try await kfwd(["start", "echo"])
                #expect(started.succeeded, "\(started.stderr)")
                let status = try await Self.status(home) { $0.forwards.first { $0.alias == "echo" }?.status == "running" }
                let dead = try #require(status.daemon.pid)
                try await harness.sim.waitUntil { sim in sim.relayPods().count == 1 }
                let stale = try #require(harness.sim.relayPods().first?[path: ["metadata", "name"]]?.stringValue)
                kill(dead, SIGKILL)
                _ = try await Self.status(home) { !$0.daemon.running }
                #expect(try await kfwd(["rm", "echo"]).succeeded)
                #expect(harness.sim.relayPods().count == 1, "the dead daemon's relay is still there")
                let (_, lines, _) = try await runLongLived(.path(FilePath(kfwdPath)), ["daemon"], environment: ["KFWD_HOME": home]) { lines in
                    guard await lines.first(where: { $0.hasPrefix("kfwd daemon ready") }) != nil else { throw KubeSimTestError("no daemon: \(lines.all)") }
                    try await harness.sim.waitUntil { sim in sim.relayPods().isEmpty }
                }
                #expect(lines.contains { $0.contains("removing relay \(stale)") && $0.contains("kfwd pid \(dead)") }, "\(lines)")
            }
        }
    }
}
