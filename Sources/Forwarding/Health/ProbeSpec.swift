/// How a forward checks, through the tunnel, that a pod serves: each is a port-forward stream to
/// the pod's port (the kubelet dials it), so it tests the whole path a connection takes.
public enum ProbeSpec: Sendable, Hashable, CustomStringConvertible {
    /// The stream opens and the pod's port accepts (`tcp`).
    case connect
    /// `GET path` answers 2xx or 3xx (`http:/healthz`).
    case http(path: String)
    /// A PostgreSQL SSLRequest is answered `S` or `N` (`postgres`).
    case postgres
    /// `PING` is answered `+PONG` (`redis`).
    case redis
    /// `send` is answered with bytes starting with `expect` (`expect:PING\r\n=+PONG`).
    case expect(send: [UInt8], expect: [UInt8])

    /// The outcome of one probe.
    public enum Verdict: Sendable, Equatable {
        case healthy
        case failing(String)
    }

    /// Parses `tcp`, `http:/PATH`, `postgres`, `redis` or `expect:SEND=EXPECT` (`\r`, `\n`, `\t`
    /// and `\\` escapes).
    /// - Throws: ``ForwardError`` (`invalid_spec`) naming what is accepted.
    public init(parsing text: String) throws(ForwardError) {
        switch text {
        case "tcp": self = .connect
        case "postgres": self = .postgres
        case "redis": self = .redis
        case _ where text.hasPrefix("http:"):
            let path = String(text.dropFirst("http:".count))
            guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace }) else {
                throw Self.invalid(text, "http: needs a path, e.g. http:/healthz")
            }
            self = .http(path: path)
        case _ where text.hasPrefix("expect:"):
            let body = text.dropFirst("expect:".count)
            guard let split = body.firstIndex(of: "="), split != body.startIndex, body.index(after: split) != body.endIndex else {
                throw Self.invalid(text, "expect: needs SEND=EXPECT, e.g. 'expect:PING\\r\\n=+PONG'")
            }
            self = .expect(send: Self.unescape(body[..<split]), expect: Self.unescape(body[body.index(after: split)...]))
        default:
            throw Self.invalid(text, "use tcp, http:/PATH, postgres, redis or expect:SEND=EXPECT")
        }
    }

    private static func invalid(_ text: String, _ hint: String) -> ForwardError {
        ForwardError(code: .invalidSpec, "probe '\(text)' is not one kfwd knows: \(hint)")
    }

    private static func unescape(_ text: Substring) -> [UInt8] {
        var bytes: [UInt8] = []
        var escaped = false
        for byte in text.utf8 {
            if escaped {
                switch byte {
                case UInt8(ascii: "r"): bytes.append(13)
                case UInt8(ascii: "n"): bytes.append(10)
                case UInt8(ascii: "t"): bytes.append(9)
                default: bytes.append(byte)
                }
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else {
                bytes.append(byte)
            }
        }
        return bytes
    }

    private static func escape(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            switch byte {
            case 13: "\\r"
            case 10: "\\n"
            case 9: "\\t"
            case UInt8(ascii: "\\"): "\\\\"
            default: String(decoding: [byte], as: UTF8.self)
            }
        }.joined()
    }

    /// The text ``init(parsing:)`` reads.
    public var description: String {
        switch self {
        case .connect: "tcp"
        case .http(let path): "http:\(path)"
        case .postgres: "postgres"
        case .redis: "redis"
        case .expect(let send, let expect): "expect:\(Self.escape(send))=\(Self.escape(expect))"
        }
    }

    /// What the probe sends once the stream is open.
    var request: [UInt8] {
        switch self {
        case .connect: []
        case .http(let path): Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: kfwd-probe\r\nConnection: close\r\n\r\n".utf8)
        // SSLRequest: length 8, then the code 80877103 (PostgreSQL protocol, section 55.2.10).
        case .postgres: [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]
        case .redis: Array("PING\r\n".utf8)
        case .expect(let send, _): send
        }
    }

    /// What `answer` (everything the pod sent so far; `ended`: and then closed) says; nil while
    /// more is needed. A `connect` probe is judged by the stream alone (the runner's business).
    func verdict(answer: [UInt8], ended: Bool) -> Verdict? {
        switch self {
        case .connect:
            return .healthy
        case .http:
            guard let lineEnd = answer.firstIndex(of: 10) else {
                return ended ? .failing(answer.isEmpty ? "no HTTP answer" : "not an HTTP answer") : nil
            }
            let line = String(decoding: answer[..<lineEnd], as: UTF8.self)
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else { return .failing("not an HTTP answer") }
            return (200..<400).contains(code) ? .healthy : .failing("HTTP \(code)")
        case .postgres:
            guard let first = answer.first else { return ended ? .failing("no answer to the PostgreSQL SSLRequest") : nil }
            return first == UInt8(ascii: "S") || first == UInt8(ascii: "N") ? .healthy : .failing("not a PostgreSQL answer")
        case .redis:
            return Self.prefix(Array("+PONG".utf8), of: answer, ended: ended, describe: "PING")
        case .expect(_, let expect):
            return Self.prefix(expect, of: answer, ended: ended, describe: "the expected answer")
        }
    }

    private static func prefix(_ expected: [UInt8], of answer: [UInt8], ended: Bool, describe: String) -> Verdict? {
        if answer.count >= expected.count {
            return answer.starts(with: expected) ? .healthy : .failing("unexpected answer to \(describe): \(Self.escape(Array(answer.prefix(40))))")
        }
        if !expected.starts(with: answer) { return .failing("unexpected answer to \(describe): \(Self.escape(answer))") }
        return ended ? .failing("no answer to \(describe)") : nil
    }
}
