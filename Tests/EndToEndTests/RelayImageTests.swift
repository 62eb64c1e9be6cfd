import Foundation
import KfwdVersion
import NIOCore
import NIOPosix
import RelayProtocol
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The relay image as a user builds it (`scripts/relay-image`, no container engine), read by real
/// OCI tools (skopeo, umoci) and run by a real OCI runtime (runc, else crun) as a container: it
/// must answer kfwd's handshake, refuse a stranger, resolve names with its static C library, and
/// stop cleanly on SIGTERM.
@Suite(.serialized) struct RelayImageTests {
    static let tools = ["skopeo", "umoci", "python3", "readelf", "strip", "objcopy"]

    @Test(.enabled(if: Self.tools.allSatisfy(isInstalled) && dnsmasqPath != nil), .timeLimit(.minutes(15)))
    func theRelayImageBuildsWithoutAnEngineAndRunsAsAContainer() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-relay-image-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let archive = folder + "/kfwd-relay.oci.tar"

        let build = try await runCommand("bash", [packageRoot + "/scripts/relay-image", "--output", archive])
        #expect(build.succeeded, "\(build.stderr.suffix(2000))")
        let digest = build.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(digest.hasPrefix("sha256:") && digest.count == 71, "\(build.stdout)")

        // Packed again from the same binary: the same bytes, so the same digest.
        let architecture = try await Self.ociArchitecture()
        let again = try await runCommand(
            "bash", [packageRoot + "/scripts/relay-image", "--output", folder + "/again.tar", "--binary", "\(architecture)=\(packageRoot)/.build-static/kfwd-relay-\(architecture)"]
        )
        #expect(again.stdout.split(separator: "\n").last.map(String.init) == digest, "\(again.stderr)")
        #expect(FileManager.default.contents(atPath: archive) == FileManager.default.contents(atPath: folder + "/again.tar"))

        // What skopeo reads: the digest printed, the user, entrypoint, port and annotations.
        let inspect = try await runCommand("skopeo", ["inspect", "oci-archive:\(archive)"])
        let summary = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        #expect(summary?["Digest"] as? String == digest, "\(inspect.stderr)")
        #expect((summary?["Layers"] as? [Any])?.count == 1)
        #expect(summary?["Architecture"] as? String == architecture)
        let labels = summary?["Labels"] as? [String: String]
        #expect(labels?["org.opencontainers.image.version"] == KfwdVersion.current)
        #expect(labels?["org.opencontainers.image.source"]?.hasPrefix("https://") == true)
        #expect(labels?["org.opencontainers.image.revision"]?.count == 40)
        let configJSON = try await runCommand("skopeo", ["inspect", "--config", "oci-archive:\(archive)"])
        let config = (try JSONSerialization.jsonObject(with: Data(configJSON.stdout.utf8)) as? [String: Any])?["config"] as? [String: Any]
        #expect(config?["User"] as? String == "65532:65532")
        #expect(config?["Entrypoint"] as? [String] == ["/kfwd-relay"])
        #expect((config?["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["9527/tcp"])

        // Copied as a user pushes it (to a layout here, a registry there), unpacked as a runtime does.
        let layout = folder + "/layout"
        try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
        let copy = try await runCommand("skopeo", ["copy", "oci-archive:\(archive)", "oci:\(layout):relay"])
        #expect(copy.succeeded, "\(copy.stderr)")
        let bundle = folder + "/bundle"
        let unpack = try await runCommand("umoci", ["unpack", "--image", "\(layout):relay", bundle])
        #expect(unpack.succeeded, "\(unpack.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: bundle + "/rootfs")
        #expect(files == ["kfwd-relay"], "one file: the static binary")
        let program = try await runCommand("readelf", ["--program-headers", bundle + "/rootfs/kfwd-relay"])
        #expect(program.succeeded && !program.stdout.contains("INTERP"), "statically linked: no program interpreter")

        try await Self.runContainer(bundle: bundle, folder: folder)
    }

    /// The cluster DNS the container's resolv.conf names: dnsmasq on a loopback address of its
    /// own, answering one name.
    static let dnsAddress = "127.21.0.53"

    /// Runs the unpacked image with runc (else crun) and talks to it as kfwd does, to targets
    /// by names that its hosts file and its DNS server know. Where no runtime can start a
    /// container in this machine's sandbox, says so loudly and runs the binary from the
    /// unpacked root filesystem instead.
    static func runContainer(bundle: String, folder: String) async throws {
        let relayPort = try await freePort()
        try await RelayProcessTests.withUDPEcho { echo in
            let hosts = folder + "/hosts"
            try "127.0.0.1 echo.kfwd.test\n".write(toFile: hosts, atomically: true, encoding: .utf8)
            let resolver = folder + "/resolv.conf"
            try "nameserver \(Self.dnsAddress)\n".write(toFile: resolver, atomically: true, encoding: .utf8)
            let targets = [try RelayTarget(host: "echo.kfwd.test", port: echo), try RelayTarget(host: "dns.kfwd.test", port: echo)]
            let environment = [
                "KFWD_RELAY_TARGETS": targets.map { "udp/\($0)" }.joined(separator: ","), "KFWD_RELAY_LISTEN": "127.0.0.1:\(relayPort)",
            ]
            try Self.configure(bundle: bundle, environment: environment, mounts: ["/etc/hosts": hosts, "/etc/resolv.conf": resolver])
            let dns = [
                "-k", "--log-facility=-", "--port=53", "--listen-address=\(Self.dnsAddress)", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--pid-file=", "--user=root", "--address=/dns.kfwd.test/127.0.0.1",
            ]
            let (ran, _, _) = try await runLongLived(.path(FilePath(dnsmasqPath ?? "/usr/sbin/dnsmasq")), dns) { dnsLines in
                _ = await dnsLines.first(timeout: .seconds(10), where: { $0.contains("started") })
                for runtime in ["runc", "crun"] {
                    guard let path = installedPath(runtime) else { continue }
                    let id = "kfwd-relay-test-\(getpid())"
                    let (answers, lines, status) = try await runLongLived(.path(FilePath(path)), ["run", "--bundle", bundle, id]) { lines in
                        guard await lines.first(timeout: .seconds(10), where: { $0.contains("listening on 127.0.0.1:\(relayPort)") }) != nil else { return [[UInt8]]() }
                        return try await withinTimeLimit(.seconds(30)) { try await Self.talk(port: relayPort, targets: targets) } ?? []
                    }
                    guard !answers.isEmpty else {
                        print("RELAY IMAGE: \(runtime) cannot start a container here (\(status)): \(lines.suffix(3).joined(separator: " | "))")
                        _ = try? await runCommand(path, ["delete", "--force", id])
                        continue
                    }
                    Self.check(answers, targets: targets.count, lines: lines, status: status, via: runtime)
                    return true
                }
                return false
            }
            if !ran {
                print("RELAY IMAGE: NO OCI RUNTIME COULD RUN THE IMAGE ON THIS MACHINE; running its binary from the unpacked root filesystem instead")
                let target = try RelayTarget(host: "127.0.0.1", port: echo)
                var direct = environment
                direct["KFWD_RELAY_TARGETS"] = "udp/\(target)"
                let (answers, lines, status) = try await runLongLived(.path(FilePath(bundle + "/rootfs/kfwd-relay")), [], environment: direct) { lines in
                    _ = await lines.first(timeout: .seconds(10), where: { $0.contains("listening on") })
                    return try await withinTimeLimit(.seconds(30)) { try await Self.talk(port: relayPort, targets: [target]) } ?? []
                }
                Self.check(answers, targets: 1, lines: lines, status: status, via: "the unpacked binary")
            }
        }
    }

    /// A stranger before the owner, kfwd's claim, a second would-be owner, then a datagram to
    /// each target.
    static func talk(port: Int, targets: [RelayTarget]) async throws -> [[UInt8]] {
        let owner = RelaySecret.generate()
        var answers = [
            try await RelayProcessTests.exchange(port, RelayHeader(.udp, target: targets[0], secret: RelaySecret.generate()).bytes),
            try await RelayProcessTests.exchange(port, RelayHeader.presence(secret: owner).bytes, limit: 1),
            try await RelayProcessTests.exchange(port, RelayHeader.presence(secret: RelaySecret.generate()).bytes),
        ]
        for target in targets {
            var datagram = RelayHeader(.udp, target: target, secret: owner).bytes
            DatagramFraming.write(ByteBuffer(string: "ping"), to: &datagram)
            answers.append(try await RelayProcessTests.exchange(port, datagram, limit: 1 + 2 + 4))
        }
        return answers
    }

    static func check(_ answers: [[UInt8]], targets: Int, lines: [String], status: TerminationStatus, via runtime: String) {
        #expect(answers.count == 3 + targets, "\(runtime): \(lines)")
        guard answers.count == 3 + targets else { return }
        #expect(answers[0] == [RelayStatus.badSecret.rawValue], "\(runtime): a client without the secret is refused")
        #expect(answers[1] == [RelayStatus.ok.rawValue], "\(runtime): kfwd's presence stream claims the relay")
        #expect(answers[2] == [RelayStatus.badSecret.rawValue], "\(runtime): a second owner is refused")
        for index in 3..<answers.count {
            #expect(answers[index] == [0, 0, 4] + Array("ping".utf8), "\(runtime): datagram \(index - 2) comes back: \(lines)")
        }
        #expect(status.isSuccess, "\(runtime): SIGTERM ends the relay cleanly: \(status) \(lines)")
        #expect(lines.contains { $0.contains("stopping on a signal") }, "\(runtime): \(lines)")
    }

    /// The runtime spec umoci wrote, adjusted as a kubelet would for this pod: the relay's
    /// environment, its hosts and resolver files, no terminal; and the host's network, so that
    /// this test reaches the relay's loopback as port-forward reaches a pod's.
    static func configure(bundle: String, environment: [String: String], mounts: [String: String]) throws {
        let path = bundle + "/config.json"
        guard var spec = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any],
            var process = spec["process"] as? [String: Any], var linux = spec["linux"] as? [String: Any]
        else { throw KubeSimTestError("umoci wrote no runtime spec in \(bundle)") }
        process["terminal"] = false
        process["env"] = ((process["env"] as? [String]) ?? []) + environment.map { "\($0.key)=\($0.value)" }
        linux["namespaces"] = ((linux["namespaces"] as? [[String: Any]]) ?? []).filter { $0["type"] as? String != "network" }
        spec["process"] = process
        spec["linux"] = linux
        spec["mounts"] = ((spec["mounts"] as? [[String: Any]]) ?? []) + mounts.sorted { $0.key < $1.key }.map { destination, source in
            ["destination": destination, "type": "bind", "source": source, "options": ["rbind", "ro"]]
        }
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: path))
    }

    /// A port free now (bound and closed): the relay in the container binds it a moment later.
    static func freePort() async throws -> Int {
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress?.port ?? 0
        try await probe.close()
        return port
    }

    static func ociArchitecture() async throws -> String {
        let machine = try await runCommand("uname", ["-m"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return machine == "x86_64" ? "amd64" : "arm64"
    }
}
