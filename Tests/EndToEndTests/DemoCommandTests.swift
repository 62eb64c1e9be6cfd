import Foundation
import Testing

/// `kfwd demo`, the README's first command: it starts, says what to try, and what it says works.
@Suite struct DemoCommandTests {
    @Test func demoForwardsTheShopAndTheCommandsItPrintsWork() async throws {
        let run = try await runKfwd(["demo", "--web-port", "0"]) { lines in
            guard let web = await lines.first(where: { $0.contains("svc/web  -> http://127.0.0.1:") }),
                let url = web.split(separator: " ").first(where: { $0.hasPrefix("http://") }),
                let deletion = await lines.first(where: { $0.contains("kubectl delete pods") })
            else { throw KubeSimTestError("the demo did not print its instructions: \(lines.all)") }
            _ = await lines.first { $0.hasPrefix("Forwarding from 127.0.0.1:") && $0.hasSuffix("-> 80") }
            let first = try await runCommand("curl", ["-s", "--max-time", "10", String(url)])
            // One turn of the printed loop, as a shell runs it: an answer, and FAILED where
            // nothing answers.
            guard let loop = await lines.first(where: { $0.contains("while true; do ") }),
                let body = loop.components(separatedBy: "while true; do ").last?.components(separatedBy: "; sleep").first
            else { throw KubeSimTestError("no curl loop: \(lines.all)") }
            let turn = try await runCommand("bash", ["-c", body])
            let closed = try await runCommand("bash", ["-c", body.replacingOccurrences(of: String(url), with: "http://127.0.0.1:1/")])
            // The printed kubectl line, as a user would paste it.
            let words = deletion.trimmingCharacters(in: .whitespaces).split(separator: " ").map(String.init)
            let kubeconfig = String(words[0].dropFirst("KUBECONFIG=".count))
            let home = FileManager.default.temporaryDirectory.appendingPathComponent("kfwd-demo-home-\(UUID().uuidString)").path
            let deleted = try await runCommand(words[1], Array(words.dropFirst(2)), environment: ["KUBECONFIG": kubeconfig, "HOME": home])
            try? FileManager.default.removeItem(atPath: home)
            let after = try await runCommand("curl", ["-s", "--max-time", "10", String(url)])
            // The UDP line: a datagram through the relay pod the demo deploys, echoed back.
            guard let udp = await lines.first(where: { $0.contains("svc/dns  -> udp 127.0.0.1:") }),
                let dnsPort = Int(udp.split(separator: "127.0.0.1:").last?.prefix { $0.isNumber } ?? "")
            else { throw KubeSimTestError("no UDP line: \(lines.all)") }
            let echoed = try await runCommand("python3", ["-c", """
                import socket, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(2)
                for attempt in range(10):
                    s.sendto(b"hello", ("127.0.0.1", int(sys.argv[1])))
                    try:
                        print(s.recv(100).decode())
                        break
                    except socket.timeout:
                        pass
                """, String(dnsPort)])
            return (first.stdout, deleted, after.stdout, echoed.stdout, turn.stdout, closed.stdout)
        }
        let (first, deleted, after, echoed, turn, closed) = run.value
        #expect(turn.hasPrefix("pod: web-") && turn.split(separator: "\n").count == 1, "\(turn)")
        #expect(closed == "FAILED\n", "the loop says when a request fails")
        #expect(echoed == "hello\n", "\(run.lines)")
        #expect(run.lines.contains { $0.hasPrefix("Relay: relay kfwd-relay-") && $0.hasSuffix(" ready") })
        #expect(first.hasPrefix("pod: web-"), "\(first)")
        #expect(deleted.succeeded, "\(deleted.stderr) kfwd: \(run.lines)")
        #expect(after.hasPrefix("pod: web-"), "\(after)")
        #expect(run.status.isSuccess, "\(run.lines)")
    }
}
