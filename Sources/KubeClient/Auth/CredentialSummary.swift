import Foundation
import NIOSSL

/// What the kubeconfig's user presents to the API server and until when it is valid, for
/// `kfwd doctor`: obtaining it runs the exec plugin or reads the token file as a request would.
public struct CredentialSummary: Sendable, Equatable {
    /// `token`, `token file PATH`, `exec plugin COMMAND`, `client certificate`, `basic auth`,
    /// or `none`.
    public let kind: String
    /// When the credential stops being valid: a token's `exp` claim (a JWT, as ServiceAccount
    /// and most OIDC tokens are), an exec plugin's `expirationTimestamp`, a client
    /// certificate's end of validity; nil when it does not say.
    public let expires: Date?

    public init(kind: String, expires: Date?) {
        self.kind = kind
        self.expires = expires
    }

    /// The `exp` claim of a JWT; nil for any other token.
    static func expiry(ofToken token: String) -> Date? {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        payload += String(repeating: "=", count: (4 - payload.count % 4) % 4)
        guard let data = Data(base64Encoded: payload),
            let claims = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let exp = claims["exp"] as? NSNumber
        else { return nil }
        return Date(timeIntervalSince1970: exp.doubleValue)
    }

    /// The end of validity of the first certificate of a PEM chain.
    static func expiry(ofCertificate pem: [UInt8]) -> Date? {
        guard let certificate = try? NIOSSLCertificate.fromPEMBytes(pem).first else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
    }
}

extension KubeClient {
    /// The credentials a request would carry now, summarised.
    /// - Throws: ``KubeError`` (`credentials`, `config`) when they cannot be obtained: the exec
    ///   plugin fails, the token file cannot be read, the certificate cannot be.
    public func credentialSummary() async throws(KubeError) -> CredentialSummary {
        let presented = try await self.credentials.current()
        let user = self.context.user
        let owner = "user '\(self.context.userName)'"
        let token = presented.authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst("Bearer ".count)) : nil }
        if let exec = user.exec, user.token == nil, user.tokenFile == nil {
            let certificate = presented.clientCertificatePEM.map { CredentialSummary.expiry(ofCertificate: Array($0.utf8)) } ?? nil
            let expires = await self.credentials.execExpiration ?? token.flatMap(CredentialSummary.expiry(ofToken:)) ?? certificate
            return CredentialSummary(kind: "exec plugin \(exec.command)", expires: expires)
        }
        if let token {
            let kind = user.tokenFile.map { "token file \($0)" } ?? "token"
            return CredentialSummary(kind: kind, expires: CredentialSummary.expiry(ofToken: token))
        }
        if let pem = try TLSSettings.material(data: user.clientCertificateData, file: user.clientCertificate, what: "client-certificate", of: owner) {
            return CredentialSummary(kind: "client certificate", expires: CredentialSummary.expiry(ofCertificate: pem))
        }
        if presented.authorization != nil { return CredentialSummary(kind: "basic auth", expires: nil) }
        return CredentialSummary(kind: "none", expires: nil)
    }

    /// The API server's version (`GET /version`'s `gitVersion`).
    public func serverVersion() async throws(KubeError) -> String {
        struct Version: Decodable { let gitVersion: String }
        return try self.decode(Version.self, try await self.send(.GET, "/version", deadline: .seconds(10))).gitVersion
    }
}
