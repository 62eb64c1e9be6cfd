import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwiftASN1
import X509
import _CryptoExtras

/// The cluster CA KubeSim generates at start: it signs the serving certificate and any client
/// certificates tests ask for, as a kubeadm cluster's CA does.
public struct CertificateAuthority: Sendable {
    /// PEM-encoded certificate and private key.
    public struct Issued: Sendable {
        public let certificatePEM: String
        public let privateKeyPEM: String
    }

    /// The key type of an issued client certificate.
    public enum KeyType: Sendable {
        case p256
        case rsa2048
    }

    let certificate: Certificate
    private let key: Certificate.PrivateKey
    public let certificatePEM: String

    init() throws {
        let signingKey = P256.Signing.PrivateKey()
        self.key = Certificate.PrivateKey(signingKey)
        let name = try DistinguishedName { CommonName("kubesim-ca") }
        let now = Date()
        self.certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: self.key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            },
            issuerPrivateKey: self.key
        )
        self.certificatePEM = try self.certificate.serializeAsPEM().pemString
    }

    /// The apiserver's serving certificate, valid for `localhost`, `kubernetes`, the loopback
    /// addresses and `extraNames` (addresses or names), as clients reach it.
    func issueServingCertificate(extraNames: [String]) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        var names: [GeneralName] = [
            .dnsName("localhost"), .dnsName("kubernetes"), .dnsName("kubernetes.default"),
            .dnsName("kubernetes.default.svc"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
            .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
        ]
        for name in extraNames {
            names.append(Self.addressBytes(name).map { .ipAddress(ASN1OctetString(contentBytes: $0[...])) } ?? .dnsName(name))
        }
        let certificate = try self.sign(
            publicKey: Certificate.PrivateKey(key).publicKey,
            subject: try DistinguishedName { CommonName("kube-apiserver") },
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            }
        )
        return Issued(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// The bytes of an IPv4 or IPv6 address in text, nil for anything else.
    private static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// A client certificate for `user` in `groups`: the apiserver takes the user from the common
    /// name and the groups from the organizations.
    /// - Returns: the certificate and its key, the key as PKCS#8 PEM.
    public func issueClientCertificate(user: String, groups: [String] = [], keyType: KeyType = .p256) throws -> Issued {
        let publicKey: Certificate.PublicKey
        let keyPEM: String
        switch keyType {
        case .p256:
            let key = P256.Signing.PrivateKey()
            publicKey = Certificate.PrivateKey(key).publicKey
            keyPEM = key.pemRepresentation
        case .rsa2048:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            publicKey = Certificate.PrivateKey(key).publicKey
            keyPEM = key.pkcs8PEMRepresentation
        }
        let subject = try DistinguishedName {
            for group in groups { OrganizationName(group) }
            CommonName(user)
        }
        let certificate = try self.sign(
            publicKey: publicKey,
            subject: subject,
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.clientAuth])
            }
        )
        return Issued(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: keyPEM)
    }

    private func sign(publicKey: Certificate.PublicKey, subject: DistinguishedName, extensions: Certificate.Extensions) throws -> Certificate {
        let now = Date()
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: self.key
        )
    }
}
