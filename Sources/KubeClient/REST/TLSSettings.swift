import Foundation
import NIOSSL

/// Builds the TLS configuration of a context: the cluster CA (data wins over file), insecure
/// mode, and the client identity.
enum TLSSettings {
    static func configuration(for context: KubeContext, identity: CredentialProvider.Presented) throws(KubeError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        // Like Go's tls.Conn.Close: send close_notify, do not wait for the server's (NIOSSL would
        // hold every shutdown up to 5 s for a server that never answers).
        tls.shutdownTimeout = .zero
        let cluster = context.cluster
        do {
            if cluster.insecureSkipTLSVerify == true {
                tls.certificateVerification = .none
            } else if let pem = try self.material(data: cluster.certificateAuthorityData, file: cluster.certificateAuthority, what: "certificate-authority", of: "cluster '\(context.clusterName)'") {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pem))
            }
        } catch let error as KubeError {
            throw error
        } catch {
            throw KubeError.config("the certificate-authority of cluster '\(context.clusterName)' is not a PEM certificate: \(error)")
        }
        let user = context.user
        var certificatePEM = identity.clientCertificatePEM.map { Array($0.utf8) }
        var keyPEM = identity.clientKeyPEM.map { Array($0.utf8) }
        if certificatePEM == nil {
            certificatePEM = try self.material(data: user.clientCertificateData, file: user.clientCertificate, what: "client-certificate", of: "user '\(context.userName)'")
            keyPEM = try self.material(data: user.clientKeyData, file: user.clientKey, what: "client-key", of: "user '\(context.userName)'")
        }
        switch (certificatePEM, keyPEM) {
        case (nil, nil):
            break
        case (.some(let certificate), .some(let key)):
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
            } catch {
                throw KubeError.config("the client-certificate of user '\(context.userName)' is not a PEM certificate")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            } catch {
                throw KubeError.config("the client-key of user '\(context.userName)' is not a PEM private key (RSA or EC, PKCS#1, SEC1 or PKCS#8)")
            }
        default:
            throw KubeError.config("user '\(context.userName)' has a client certificate without a key, or a key without a certificate: give both")
        }
        return tls
    }

    /// `*-data` fields are base64 of the PEM; the path form is read from disk.
    static func material(data: String?, file: String?, what: String, of owner: String) throws(KubeError) -> [UInt8]? {
        if let data, !data.isEmpty {
            guard let decoded = Data(base64Encoded: data.trimmingCharacters(in: .whitespacesAndNewlines), options: .ignoreUnknownCharacters) else {
                throw KubeError.config("\(what)-data of \(owner) is not base64")
            }
            return Array(decoded)
        }
        if let file, !file.isEmpty {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw KubeError.config("cannot read the \(what) file '\(file)' of \(owner)")
            }
            return Array(contents)
        }
        return nil
    }
}
