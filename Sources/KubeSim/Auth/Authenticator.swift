import Foundation
import SwiftASN1
import NIOSSL
import Synchronization
import X509

/// Who a request comes from: a bearer token from the token table (as `--token-auth-file`
/// holds them, with groups, or as the TokenRequest API issues them, with an expiry), a client
/// certificate signed by the cluster CA (the TLS layer has already verified it; the common name
/// is the user, each organization a group), or HTTP basic credentials. Anything else is
/// anonymous and gets 401, as with `--anonymous-auth=false`.
final class Authenticator: Sendable {
    private struct Token: Sendable {
        let user: UserInfo
        let expires: Date?
    }

    private let tokens: Mutex<[String: Token]>
    private let basic: Mutex<[String: (password: String, user: UserInfo)]>

    init(tokens: [String: UserInfo]) {
        self.tokens = Mutex(tokens.mapValues { Token(user: $0, expires: nil) })
        self.basic = Mutex([:])
    }

    func setToken(_ token: String, user: UserInfo?, expires: Date? = nil) {
        self.tokens.withLock { $0[token] = user.map { Token(user: $0, expires: expires) } }
    }

    func setBasic(username: String, password: String?, groups: [String]) {
        self.basic.withLock { $0[username] = password.map { ($0, UserInfo(name: username, groups: groups)) } }
    }

    /// - Returns: the user, or nil when the request is not authenticated.
    func authenticate(authorization: String?, peerCertificate: NIOSSLCertificate?) -> UserInfo? {
        if let authorization {
            if authorization.hasPrefix("Bearer ") {
                let token = String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
                return self.tokens.withLock { table in
                    guard let entry = table[token], (entry.expires.map { $0 > Date() } ?? true) else { return nil }
                    return entry.user
                }
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
            let values = { (type: ASN1ObjectIdentifier) in
                certificate.subject.flatMap { rdn in rdn.filter { $0.type == type }.map { String(describing: $0.value) } }
            }
            guard let name = values(.RDNAttributeType.commonName).last else { return nil }
            return UserInfo(name: name, groups: values(.RDNAttributeType.organizationName))
        }
        return nil
    }
}
