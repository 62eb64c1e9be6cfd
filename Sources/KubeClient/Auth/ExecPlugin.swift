import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs an exec credential plugin (client-go plugin/pkg/client/auth/exec/exec.go): passes
/// `KUBERNETES_EXEC_INFO`, hands it the terminal only when interactive, and checks its answer.
struct ExecPlugin: Sendable {
    struct Credential: Sendable, Equatable {
        var token: String?
        var clientCertificatePEM: String?
        var clientKeyPEM: String?
        var expiration: Date?
    }

    private struct Output: Decodable {
        struct Status: Decodable {
            var token: String?
            var expirationTimestamp: String?
            var clientCertificateData: String?
            var clientKeyData: String?
        }

        var apiVersion: String?
        var kind: String?
        var status: Status?
    }

    let config: Kubeconfig.ExecConfig
    let context: KubeContext

    private static let supported = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]

    func run() async throws(KubeError) -> Credential {
        let user = self.context.userName
        guard Self.supported.contains(self.config.apiVersion) else {
            throw KubeError.config("user '\(user)': exec plugin apiVersion '\(self.config.apiVersion)' is not supported: use client.authentication.k8s.io/v1")
        }
        let mode = self.config.interactiveMode ?? (self.config.apiVersion.hasSuffix("/v1") ? nil : "IfAvailable")
        guard let mode else {
            throw KubeError.config("user '\(user)': interactiveMode must be specified to use the exec plugin '\(self.config.command)' (Never, IfAvailable or Always)")
        }
        let terminal = isatty(0) == 1
        if mode == "Always" && !terminal {
            throw KubeError.credentials("user '\(user)': the exec plugin '\(self.config.command)' needs a terminal (interactiveMode: Always), and there is none")
        }
        let interactive = terminal && mode != "Never"
        var overrides: [Subprocess.Environment.Key: String?] = ["KUBERNETES_EXEC_INFO": self.execInfo(interactive: interactive)]
        for variable in self.config.env ?? [] {
            if let key = Subprocess.Environment.Key(rawValue: variable.name) { overrides[key] = variable.value }
        }
        let executable: Executable = self.config.command.contains("/") ? .path(FilePath(self.config.command)) : .name(self.config.command)
        let configuration = Configuration(executable: executable, arguments: Arguments(self.config.args ?? []), environment: .inherit.updating(overrides))
        // The plugin gets the terminal only when interactive, its stderr too. Otherwise its
        // stderr is read, passed on to ours, and its last line said in the error when it fails
        // (a daemon's log, `kfwd doctor -o json`).
        let status: TerminationStatus
        let stdout: String
        var said = ""
        do {
            if interactive {
                let result = try await Subprocess.run(
                    configuration, input: .fileDescriptor(.standardInput, closeAfterSpawningProcess: false), output: .string(limit: 1 << 20),
                    error: .fileDescriptor(.standardError, closeAfterSpawningProcess: false)
                )
                (status, stdout) = (result.terminationStatus, result.standardOutput)
            } else {
                let result = try await Subprocess.run(configuration, input: .none, output: .string(limit: 1 << 20), error: .string(limit: 1 << 16))
                (status, stdout) = (result.terminationStatus, result.standardOutput)
                let text = result.standardError
                if !text.isEmpty { FileHandle.standardError.write(Data(text.utf8)) }
                said = text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init) ?? ""
            }
        } catch {
            let hint = self.config.installHint.map { ": \($0)" } ?? ": install it or fix the command of user '\(user)'"
            throw KubeError.credentials("exec plugin '\(self.config.command)' for user '\(user)' could not be started\(hint)")
        }
        guard status.isSuccess else {
            let why = said.isEmpty ? "run it by hand to see why" : "it said: \(said.prefix(300))"
            throw KubeError.credentials("exec plugin '\(self.config.command)' for user '\(user)' failed (\(status)): \(why)")
        }
        return try self.parse(stdout)
    }

    func parse(_ stdout: String) throws(KubeError) -> Credential {
        let user = self.context.userName
        let output: Output
        do {
            output = try JSONDecoder().decode(Output.self, from: Data(stdout.utf8))
        } catch {
            throw KubeError.credentials("exec plugin '\(self.config.command)' for user '\(user)' printed something that is not an ExecCredential")
        }
        guard output.apiVersion == self.config.apiVersion else {
            throw KubeError.credentials(
                "exec plugin '\(self.config.command)' answered with apiVersion '\(output.apiVersion ?? "")', but the kubeconfig asks for '\(self.config.apiVersion)'"
            )
        }
        guard let status = output.status else {
            throw KubeError.credentials("exec plugin '\(self.config.command)' for user '\(user)' returned no status")
        }
        if (status.clientCertificateData == nil) != (status.clientKeyData == nil) {
            throw KubeError.credentials("exec plugin '\(self.config.command)' returned a client certificate without its key, or a key without its certificate")
        }
        if status.token == nil && status.clientCertificateData == nil {
            throw KubeError.credentials("exec plugin '\(self.config.command)' returned neither a token nor a client certificate")
        }
        var expiration: Date?
        if let text = status.expirationTimestamp {
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw KubeError.credentials("exec plugin '\(self.config.command)' returned an expirationTimestamp that is not RFC 3339: '\(text)'")
            }
            expiration = date
        }
        return Credential(
            token: status.token, clientCertificatePEM: status.clientCertificateData, clientKeyPEM: status.clientKeyData, expiration: expiration
        )
    }

    private func execInfo(interactive: Bool) -> String {
        var spec: [String: Any] = ["interactive": interactive]
        if self.config.provideClusterInfo == true {
            var cluster: [String: Any] = ["server": self.context.server]
            if let name = self.context.cluster.tlsServerName { cluster["tls-server-name"] = name }
            if let insecure = self.context.cluster.insecureSkipTLSVerify { cluster["insecure-skip-tls-verify"] = insecure }
            if let data = self.context.cluster.certificateAuthorityData { cluster["certificate-authority-data"] = data }
            if let proxy = self.context.cluster.proxyURL { cluster["proxy-url"] = proxy }
            spec["cluster"] = cluster
        }
        let info: [String: Any] = ["kind": "ExecCredential", "apiVersion": self.config.apiVersion, "spec": spec]
        let data = (try? JSONSerialization.data(withJSONObject: info, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
