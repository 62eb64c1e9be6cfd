import KubeClient
import Signals
import Testing

@testable import Forwarding

/// Probes as the user writes them, and what each makes of a pod's answer.
@Suite struct ProbeSpecTests {
    @Test func everyKindParsesAndPrintsBack() throws {
        for text in ["tcp", "http:/healthz", "postgres", "redis", "expect:PING\\r\\n=+PONG"] {
            #expect(try ProbeSpec(parsing: text).description == text)
        }
        #expect(try ProbeSpec(parsing: "expect:PING\\r\\n=+PONG") == .expect(send: Array("PING\r\n".utf8), expect: Array("+PONG".utf8)))
    }

    @Test func badProbesAreRefusedWithWhatIsAccepted() {
        for text in ["http", "http:healthz", "expect:PING", "expect:=x", "icmp", ""] {
            #expect(throws: ForwardError.self) { try ProbeSpec(parsing: text) }
        }
        do {
            _ = try ProbeSpec(parsing: "icmp")
        } catch {
            #expect(error.code == .invalidSpec)
            #expect(error.message == "probe 'icmp' is not one kfwd knows: use tcp, http:/PATH, postgres, redis or expect:SEND=EXPECT")
        }
    }

    @Test func httpPassesOnTwoAndThreeHundredsAndWaitsForTheStatusLine() {
        let probe = ProbeSpec.http(path: "/healthz")
        #expect(probe.request == Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\nUser-Agent: kfwd-probe\r\nConnection: close\r\n\r\n".utf8))
        #expect(probe.verdict(answer: Array("HTTP/1.1 20".utf8), ended: false) == nil)
        #expect(probe.verdict(answer: Array("HTTP/1.1 204 No Content\r\n".utf8), ended: false) == .healthy)
        #expect(probe.verdict(answer: Array("HTTP/1.0 302 Found\r\n".utf8), ended: false) == .healthy)
        #expect(probe.verdict(answer: Array("HTTP/1.1 500 Internal Server Error\r\n".utf8), ended: false) == .failing("HTTP 500"))
        #expect(probe.verdict(answer: Array("SSH-2.0-OpenSSH\r\n".utf8), ended: false) == .failing("not an HTTP answer"))
        #expect(probe.verdict(answer: [], ended: true) == .failing("no HTTP answer"))
    }

    @Test func postgresRedisAndExpect() {
        #expect(ProbeSpec.postgres.request == [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F])
        #expect(ProbeSpec.postgres.verdict(answer: [UInt8(ascii: "N")], ended: false) == .healthy)
        #expect(ProbeSpec.postgres.verdict(answer: [UInt8(ascii: "S")], ended: false) == .healthy)
        #expect(ProbeSpec.postgres.verdict(answer: [UInt8(ascii: "E")], ended: false) == .failing("not a PostgreSQL answer"))
        #expect(ProbeSpec.redis.verdict(answer: Array("+PO".utf8), ended: false) == nil)
        #expect(ProbeSpec.redis.verdict(answer: Array("+PONG\r\n".utf8), ended: false) == .healthy)
        #expect(ProbeSpec.redis.verdict(answer: Array("-NOAUTH".utf8), ended: false) == .failing("unexpected answer to PING: -NOAUTH"))
        #expect(ProbeSpec.redis.verdict(answer: Array("+PO".utf8), ended: true) == .failing("no answer to PING"))
        let expect = ProbeSpec.expect(send: Array("HELLO\n".utf8), expect: Array("OK".utf8))
        #expect(expect.verdict(answer: Array("OK ready".utf8), ended: false) == .healthy)
        #expect(expect.verdict(answer: Array("NO".utf8), ended: false) == .failing("unexpected answer to the expected answer: NO"))
    }

    @Test func everyPodFailingMakesTheForwardDegradedWithTheReasonsAndOnePassingKeepsItRunning() {
        var lifecycle = ForwardLifecycle()
        _ = lifecycle.start()
        lifecycle.podsChanged(["web-a", "web-b"], reason: nil)
        lifecycle.healthChanged(pod: "web-a", failure: "http:/healthz probe: HTTP 500")
        #expect(lifecycle.state.name == "running")
        lifecycle.healthChanged(pod: "web-b", failure: "http:/healthz probe: HTTP 503")
        #expect(lifecycle.state.name == "degraded")
        #expect(lifecycle.state.reason?.code == .podUnhealthy)
        #expect(lifecycle.state.reason?.message == "no pod passes its probe (web-a: http:/healthz probe: HTTP 500; web-b: http:/healthz probe: HTTP 503)")
        lifecycle.healthChanged(pod: "web-b", failure: nil)
        #expect(lifecycle.state.name == "running")
        // A failing pod that left the set counts no more.
        lifecycle.podsChanged(["web-b"], reason: nil)
        #expect(lifecycle.state.name == "running")
    }

    /// Two ready pods, as a Service's endpoints would give them.
    struct TwoPods: PodPicker {
        func candidates(remotePort: RemotePort) -> [PodChoice] { [PodChoice(pod: "web-a", port: 8080), PodChoice(pod: "web-b", port: 8080)] }
        var informers: [any TickSource] { [] }
        func emptyReason(remotePort: RemotePort) -> ForwardError { ForwardError(code: .noReadyPod, "none") }
        var apiError: KubeError? { nil }
    }

    @Test func aPodFailingTwiceInARowLosesNewConnectionsUnlessEveryPodFails() {
        let health = PodHealth()
        let picker = HealthyPodPicker(base: TwoPods(), health: health)
        #expect(!health.record("web-a", .failing("HTTP 500")), "one failure is not enough")
        #expect(picker.candidates(remotePort: 80).map(\.pod) == ["web-a", "web-b"])
        let revision = health.ticker.revision
        #expect(health.record("web-a", .failing("HTTP 500")))
        #expect(health.ticker.revision > revision, "pickers read again")
        #expect(picker.candidates(remotePort: 80).map(\.pod) == ["web-b"])
        _ = health.record("web-b", .failing("HTTP 503"))
        _ = health.record("web-b", .failing("HTTP 503"))
        #expect(picker.candidates(remotePort: 80).map(\.pod) == ["web-a", "web-b"], "every pod fails: traffic still flows")
        #expect(health.record("web-a", .healthy), "one pass is enough")
        #expect(picker.candidates(remotePort: 80).map(\.pod) == ["web-a"])
        health.retain(["web-a"])
        #expect(health.failures.isEmpty, "a pod that left is forgotten")
    }
}
