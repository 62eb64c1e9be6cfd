/// Library errors (NIOSSL, BoringSSL, AsyncHTTPClient) describe themselves at length, with the
/// source file and line of the library's build. People get one line of them; the log keeps the
/// rest.
public enum ErrorSummary {
    /// The longest one-line message kept whole.
    public static let limit = 400

    /// `text` on one line, without source paths, cut at ``limit`` characters.
    public static func oneLine(_ text: String) -> String {
        var words: [Substring] = []
        var afterErrorTag = false
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) {
            defer { afterErrorTag = word.hasSuffix("Error:") }
            if Self.isSourceLocation(word) {
                // `… at /path/file.cc:393`: the `at` goes with the path.
                if words.last == "at" { words.removeLast() }
                continue
            }
            guard !(afterErrorTag && word.allSatisfy(\.isNumber)) else { continue }
            if word.hasSuffix("Error:"), word.hasPrefix("(") || word.hasPrefix("[") { continue }
            words.append(Self.openSSLReason(word) ?? word)
        }
        let joined = words.filter { !$0.isEmpty }.joined(separator: " ")
        guard joined.count > Self.limit else { return joined }
        return String(joined.prefix(Self.limit - 1)) + "…"
    }

    /// BoringSSL's `error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED` is
    /// split on its spaces: `error:1000007d:SSL` then `routines:OPENSSL_internal:REASON`; the
    /// reason alone says it.
    private static func openSSLReason(_ word: Substring) -> Substring? {
        if word.hasPrefix("error:"), word.count(where: { $0 == ":" }) == 2 { return "" }
        if word.hasPrefix("routines:"), let reason = word.split(separator: ":").last { return reason }
        return nil
    }

    /// `/home/u/.build/checkouts/swift-nio-ssl/Sources/NIOSSL/SSLConnection.swift:123`,
    /// `"/build/boringssl/ssl/handshake.cc:393]))`: a path with two slashes or more that ends in
    /// a source file's extension, a line number after it perhaps.
    private static func isSourceLocation(_ word: Substring) -> Bool {
        guard word.count(where: { $0 == "/" }) >= 2 else { return false }
        var path = word.drop { "\"'([".contains($0) }
        while let last = path.last, "\"')],;.".contains(last) { path = path.dropLast() }
        while let colon = path.lastIndex(of: ":"), !path[path.index(after: colon)...].isEmpty,
            path[path.index(after: colon)...].allSatisfy(\.isNumber)
        {
            path = path[..<colon]
        }
        guard let dot = path.lastIndex(of: ".") else { return false }
        return Self.sourceExtensions.contains(String(path[path.index(after: dot)...]))
    }

    private static let sourceExtensions: Set<String> = ["swift", "c", "cc", "cpp", "h", "hpp", "m", "mm", "go", "rs"]
}
