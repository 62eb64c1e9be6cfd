import Foundation
import NIOSSL
import Synchronization
import X509

/// Who a request comes from: a bearer token from the token table, a client certificate signed by
/// the cluster CA (the TLS layer has already verified it), or HTTP basic credentials.
/// Anything else is anonymous and gets 401, as with `--anonymous-auth=false`.
final class Authenticator: Sendable {
    private let tokens: Mutex<[String: String]>
    private let basic: Mutex<[String: (password: String, user: String)]>

    init(tokens: [String: String]) {
        self.tokens = Mutex(tokens)
        self.basic = Mutex([:])
    }

    func setToken(_ token: String, user: String?) {
        self.tokens.withLock { $0[token] = user }
    }

    func setBasic(username: String, password: String?) {
        self.basic.withLock { $0[username] = password.map { ($0, username) } }
    }

    /// - Returns: the user name, or nil when the request is not authenticated.
    func authenticate(authorization: String?, peerCertificate: NIOSSLCertificate?) -> String? {
        if let authorization {
            if authorization.hasPrefix("Bearer ") {
                let token = String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
                return self.tokens.withLock { $0[token] }
            }
            if authorization.hasPrefix("Basic "),
                let decoded = Data(base64Encoded: String(authorization.dropFirst("Basic ".count))),
                let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
            {
                let name = String(text[..<colon])
                let password = String(text[text.index(after: colon)...])
                return self.basic.withLock { table in
                    guard let entry = table[name], entry.password == password else { return nil }
                    return entry.user
                }
            }
            // A bad Authorization header is a failure even when a certificate is present.
            return nil
        }
        if let peerCertificate, let der = try? peerCertificate.toDERBytes(),
            let certificate = try? Certificate(derEncoded: der)
        {
            return certificate.subject.compactMap { rdn in
                rdn.first { $0.type == .RDNAttributeType.commonName }.map { String(describing: $0.value) }
            }.last
        }
        return nil
    }
}
