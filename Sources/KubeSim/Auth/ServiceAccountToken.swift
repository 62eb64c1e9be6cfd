import Foundation

/// A ServiceAccount token shaped as the apiserver issues them: a JWT (header, claims and a
/// signature, base64url) whose claims a client may read (`exp`, `sub`). KubeSim checks tokens
/// by lookup, so the signature is random bytes, not a signature anyone can verify.
enum ServiceAccountToken {
    static func make(user: String, namespace: String, serviceAccount: String, audiences: [String], issued: Date, expires: Date) -> String {
        let header: JSON = .object(["alg": "RS256", "kid": "kubesim"])
        let claims: JSON = .object([
            "aud": .array(audiences.map { .string($0) }), "exp": .int(Int(expires.timeIntervalSince1970)),
            "iat": .int(Int(issued.timeIntervalSince1970)), "nbf": .int(Int(issued.timeIntervalSince1970)),
            "iss": "https://kubernetes.default.svc.cluster.local", "sub": .string(user),
            "kubernetes.io": .object(["namespace": .string(namespace), "serviceaccount": .object(["name": .string(serviceAccount)])]),
        ])
        let signature = Data((0..<64).map { _ in UInt8.random(in: 0...255) })
        return [header.encoded(), claims.encoded(), signature].map(Self.base64URL).joined(separator: ".")
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
