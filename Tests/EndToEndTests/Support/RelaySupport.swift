import Foundation
import KubeSim
import NIOCore
import NIOPosix
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The kfwd-relay executable built next to kfwd.
let kfwdRelayPath: String = URL(fileURLWithPath: kfwdPath).deletingLastPathComponent().appendingPathComponent("kfwd-relay").path

/// The relay image the tests deploy, run by KubeSim as the built kfwd-relay (on the address and
/// port KubeSim gives the container, with the environment of its pod spec).
let testRelayImage = "kfwd/relay:test"

/// ``webManifest`` and a UDP Service `dns` (port 53) over its pods: a relay forward's target,
/// for tests of what comes before any datagram (rights, the relay's start).
let webWithUDPServiceManifest = webManifest + """

    ---
    apiVersion: v1
    kind: Service
    metadata: {name: dns, namespace: default}
    spec:
      selector: {app: web}
      ports: [{name: dns, port: 53, protocol: UDP}]
    """

/// Which relay containers of a test start 5 s late, so that a test can hold a relay in its start.
enum SlowRelays {
    case first
    case allButFirst
}

extension KubeSim.Configuration {
    /// - Parameter slow: which containers start late; `gate` is a path that does not exist yet,
    ///   made by the first container to start (the caller removes it).
    mutating func mapRelayImage(slow: SlowRelays? = nil, gate: String = "") {
        let start =
            switch slow {
            case nil: ""
            case .first: "mkdir \(gate) 2>/dev/null && sleep 5; "
            case .allButFirst: "mkdir \(gate) 2>/dev/null || sleep 5; "
            }
        self.images["kfwd/relay"] = "\(start)exec \(kfwdRelayPath) --listen {host}:{port}"
    }
}

extension KubeSim {
    /// kfwd's relay pods in `default`, by their labels.
    func relayPods() -> [JSON] {
        (try? self.objects("pods", labelSelector: "app.kubernetes.io/managed-by=kfwd,app.kubernetes.io/component=relay")) ?? []
    }
}

/// A UDP client in Python (a real socket client, as a user's tool would be), run to completion.
/// Each peer tags its datagrams; the script prints one JSON object with what every peer got.
let udpPeersScript = """
    import json, socket, sys, time
    port, peers, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    socks = []
    for p in range(peers):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
        socks.append(s)
    got = [set() for _ in range(peers)]
    foreign = [0] * peers
    sizes_ok = [True] * peers
    def payload(p, i):
        head = ("%d:%d:" % (p, i)).encode()
        return head + b"x" * max(0, size - len(head))
    def drain(timeout):
        end = time.time() + timeout
        while time.time() < end:
            idle = True
            for p, s in enumerate(socks):
                try:
                    data, _ = s.recvfrom(70000)
                except BlockingIOError:
                    continue
                idle = False
                owner, seq = data.split(b":")[:2]
                if int(owner) != p:
                    foreign[p] += 1
                else:
                    got[p].add(int(seq))
                    if len(data) != len(payload(p, int(seq))):
                        sizes_ok[p] = False
            if idle:
                time.sleep(0.002)
            if all(len(g) == count for g in got):
                return
    # Interleaved: datagram i of every peer, then i + 1, in windows of up to 50 per peer (fewer
    # for large datagrams, so that a window fits the kernel's socket buffers); what is missing
    # after a quiet period is sent again, as a DNS client retries.
    window = max(1, min(50, (128 << 10) // size))
    for attempt in range(8):
        pending = [[i for i in range(count) if i not in got[p]] for p in range(peers)]
        for start in range(0, max(len(x) for x in pending) if pending else 0, window):
            for i in range(start, start + window):
                for p in range(peers):
                    if i < len(pending[p]):
                        socks[p].sendto(payload(p, pending[p][i]), ("127.0.0.1", port))
            drain(0.05)
        drain(1.0)
        if all(len(g) == count for g in got):
            break
    print(json.dumps({"received": [len(g) for g in got], "foreign": foreign, "sizes_ok": sizes_ok}))
    """

/// dnsmasq, which Debian installs in /usr/sbin (not on every user's PATH).
let dnsmasqPath = installedPath("dnsmasq")

/// The PostgreSQL server binary: on PATH, else where Debian's packages put it.
let postgresBinDirectory: String? = {
    if isInstalled("postgres"), isInstalled("initdb") {
        return (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/postgres") }
    }
    let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
    return versions.sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/postgres") }
}()

/// Starts a throwaway PostgreSQL server on 127.0.0.1 (trust authentication, user `postgres`)
/// and runs `body` with its port. PostgreSQL refuses to run as root, so under root it runs as
/// the `postgres` user.
func withPostgres<T: Sendable>(_ body: @escaping @Sendable (Int) async throws -> T) async throws -> T {
    guard let bin = postgresBinDirectory else { throw KubeSimTestError("no PostgreSQL server installed") }
    let directory = URL(fileURLWithPath: "/tmp/kfwd-pg-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let asRoot = getuid() == 0
    if asRoot { try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory.path) }
    func command(_ tool: String, _ arguments: [String]) -> (String, [String]) {
        asRoot ? ("runuser", ["-u", "postgres", "--", "\(bin)/\(tool)"] + arguments) : ("\(bin)/\(tool)", arguments)
    }
    let data = directory.appendingPathComponent("data").path
    let (initdb, initArguments) = command("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
    let initialized = try await runCommand(initdb, initArguments)
    guard initialized.succeeded else { throw KubeSimTestError("initdb failed: \(initialized.stderr)") }
    // A port found free can be taken by another test before postgres binds it: then another.
    for _ in 0..<5 {
        let port = try await freeLoopbackPort()
        let (server, serverArguments) = command(
            "postgres", ["-D", data, "-h", "127.0.0.1", "-p", String(port), "-k", directory.path, "-c", "fsync=off"]
        )
        let executable: Executable = server.contains("/") ? .path(FilePath(server)) : .name(server)
        let (value, _, _) = try await runLongLived(executable, serverArguments) { lines -> T? in
            let started = await lines.first { $0.contains("ready to accept connections") || $0.contains("could not bind") }
            if started?.contains("could not bind") == true { return nil }
            guard started != nil else { throw KubeSimTestError("postgres did not start: \(lines.all)") }
            return try await body(port)
        }
        if let value { return value }
    }
    throw KubeSimTestError("postgres found no free port in five tries")
}

/// A port nothing listens on right now, for a server started next. It is taken from below the
/// kernel's ephemeral range, where no socket bound to port 0 (by the tests running alongside)
/// and no outgoing connection can land before that server binds it.
func freeLoopbackPort() async throws -> Int {
    let range = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
    let ephemeral = range.flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } } ?? 32768
    for _ in 0..<100 {
        let candidate = Int.random(in: 10000..<max(10001, ephemeral))
        guard let probe = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: candidate).get() else { continue }
        try? await probe.close()
        return candidate
    }
    throw KubeSimTestError("no free port below \(ephemeral) in 100 tries")
}

extension SimHarness {
    /// Runs `body` beside a web server on the machine's loopback (Python's `http.server`, serving
    /// the harness's directory: `/` answers 200 with a listing), given its port: a target for
    /// `ip/127.0.0.1` forwards, which reach it through the relay.
    func withLoopbackWebServer(_ body: @escaping @Sendable (_ port: Int) async throws -> Void) async throws {
        _ = try await runLongLived(.name("python3"), ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"], workingDirectory: self.directory.path) { server in
            guard let serving = await server.first(where: { $0.hasPrefix("Serving HTTP on 127.0.0.1 port ") }),
                let port = Int(serving.dropFirst("Serving HTTP on 127.0.0.1 port ".count).prefix { $0.isNumber })
            else { throw KubeSimTestError("no web server: \(server.all)") }
            try await body(port)
        }
    }
}
