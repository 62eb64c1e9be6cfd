import Foundation

/// Supplies the credentials of one kubeconfig user for each request, following client-go's
/// rules (transport/round_trippers.go, token_source.go, plugin/pkg/client/auth/exec):
/// a static token; a `tokenFile` re-read every `tokenFileRefresh` (it wins over `token` whenever
/// it is readable); basic auth; a client certificate; or an exec plugin whose answer is cached
/// until its `expirationTimestamp` and fetched again after a 401.
actor CredentialProvider {
    /// What a request carries.
    struct Presented: Sendable, Equatable {
        var authorization: String?
        var clientCertificatePEM: String?
        var clientKeyPEM: String?
    }

    private let context: KubeContext
    private let tokenFileRefresh: Duration
    private var fileToken: (value: String, readAt: ContinuousClock.Instant)?
    private var execCredential: ExecPlugin.Credential?
    private var execRuns = 0

    init(context: KubeContext, tokenFileRefresh: Duration) {
        self.context = context
        self.tokenFileRefresh = tokenFileRefresh
    }

    /// How many times the exec plugin has run (for tests and diagnostics).
    var execPluginRuns: Int { self.execRuns }

    /// Until when the exec plugin's last credential is valid, when it said.
    var execExpiration: Date? { self.execCredential?.expiration }

    func current() async throws(KubeError) -> Presented {
        let user = self.context.user
        if let exec = user.exec, user.token == nil, user.tokenFile == nil {
            let credential = try await self.execCredentialValid(exec)
            return Presented(
                authorization: credential.token.map { "Bearer \($0)" },
                clientCertificatePEM: credential.clientCertificatePEM, clientKeyPEM: credential.clientKeyPEM
            )
        }
        var presented = Presented()
        if let path = user.tokenFile, let token = self.readTokenFile(path, force: false) {
            presented.authorization = "Bearer \(token)"
        } else if let token = user.token, !token.isEmpty {
            presented.authorization = "Bearer \(token)"
        } else if let path = user.tokenFile {
            throw KubeError.credentials("cannot read the tokenFile '\(path)' of user '\(self.context.userName)'")
        } else if let name = user.username, let password = user.password {
            presented.authorization = "Basic " + Data("\(name):\(password)".utf8).base64EncodedString()
        }
        return presented
    }

    /// Called after a 401 with the credentials that were refused. Returns true when new
    /// credentials were obtained and the request is worth one more try.
    func refresh(after refused: Presented) async -> Bool {
        let user = self.context.user
        if let exec = user.exec, user.token == nil, user.tokenFile == nil {
            // Another request may already have refreshed it.
            if let cached = self.execCredential, cached.token.map({ "Bearer \($0)" }) != refused.authorization || cached.clientCertificatePEM != refused.clientCertificatePEM {
                return true
            }
            self.execCredential = nil
            return (try? await self.execCredentialValid(exec)) != nil
        }
        if let path = user.tokenFile, let token = self.readTokenFile(path, force: true) {
            return "Bearer \(token)" != refused.authorization
        }
        return false
    }

    private func execCredentialValid(_ exec: Kubeconfig.ExecConfig) async throws(KubeError) -> ExecPlugin.Credential {
        if let cached = self.execCredential, cached.expiration.map({ $0 > Date() }) ?? true {
            return cached
        }
        self.execRuns += 1
        let credential = try await ExecPlugin(config: exec, context: self.context).run()
        self.execCredential = credential
        return credential
    }

    private func readTokenFile(_ path: String, force: Bool) -> String? {
        let now = ContinuousClock.now
        if !force, let cached = self.fileToken, now - cached.readAt < self.tokenFileRefresh {
            return cached.value
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return self.fileToken?.value }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        self.fileToken = (token, now)
        return token
    }
}
