import Foundation

/// Where the running forwards listen, as environment variables for the programs that use them
/// (`docker compose --env-file`, direnv, a shell): for a forward `web` listening on
/// 127.0.0.1:8080, `WEB_HOST=127.0.0.1`, `WEB_PORT=8080` and `WEB_URL=http://127.0.0.1:8080`.
public struct ForwardEnvironment: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        /// `NAME=value` lines, as `docker compose --env-file` and dotenv read them.
        case dotenv
        /// `export NAME='value'` lines, for `eval "$(kfwd env --format shell)"`.
        case shell
        /// One JSON object.
        case json
    }

    public struct Variable: Sendable, Equatable {
        public let name: String
        public let value: String
    }

    /// The variables, in the forwards' order.
    public let variables: [Variable]

    /// The variables of the forwards of `report` that listen now (running, waiting or degraded:
    /// their ports are bound), `include` choosing among them; names upper-cased, every other
    /// character than a letter or digit made `_`, after `prefix`.
    public init(_ report: StatusReport, prefix: String = "", include: (String) -> Bool = { _ in true }) {
        var variables: [Variable] = []
        for forward in report.forwards where include(forward.alias) {
            // IPv4 first: every client resolves it; a URL puts an IPv6 host in brackets.
            let sockets = forward.listening.sorted { !$0.hasPrefix("[") && $1.hasPrefix("[") }
            guard let socket = sockets.first, let colon = socket.lastIndex(of: ":") else { continue }
            let host = String(socket[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            let port = String(socket[socket.index(after: colon)...])
            let name = prefix + Self.name(forward.alias)
            variables += [Variable(name: "\(name)_HOST", value: host), Variable(name: "\(name)_PORT", value: port), Variable(name: "\(name)_URL", value: "http://\(socket)")]
        }
        self.variables = variables
    }

    static func name(_ alias: String) -> String {
        String(alias.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    public func render(_ format: Format) -> String {
        switch format {
        case .dotenv:
            return self.variables.map { "\($0.name)=\($0.value)\n" }.joined()
        case .shell:
            return self.variables.map { "export \($0.name)='\($0.value.replacingOccurrences(of: "'", with: "'\\''"))'\n" }.joined()
        case .json:
            let body = self.variables.map { "  \(Self.quoted($0.name)): \(Self.quoted($0.value))" }.joined(separator: ",\n")
            return self.variables.isEmpty ? "{}\n" : "{\n\(body)\n}\n"
        }
    }

    private static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
