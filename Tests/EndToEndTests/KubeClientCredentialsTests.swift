import Foundation
import KubeClient
import KubeSim
import Testing

@Suite struct KubeClientCredentialsTests {
    @Test func bearerTokenFromWrittenKubeconfigListsNamespaces() async throws {
        try await SimHarness.run { harness in
            try await KubeClient.withClient(context: try harness.context()) { client in
                let namespaces = try await client.list(Namespace.self).items.compactMap(\.metadata.name)
                #expect(namespaces.contains("default"))
                #expect(namespaces.contains("kube-system"))
            }
            #expect(harness.sim.requests.last?.user == "kubesim-admin")
        }
    }

    @Test func rejectedTokenIsATypedErrorNamingTheContextAndUser() async throws {
        try await SimHarness.run { harness in
            let path = try harness.write("bad", harness.kubeconfig(user: "token: not-a-valid-token"))
            try await KubeClient.withClient(context: try harness.context(path: path)) { client in
                let error = await #expect(throws: KubeError.self) { try await client.list(Pod.self) }
                #expect(error?.httpStatus == 401)
                #expect(error?.isUnauthorized == true)
                #expect(error?.message.contains("context 'kubesim'") == true)
                #expect(error?.message.contains("user entry 'tester'") == true)
            }
        }
    }

    @Test func rotatedTokenFileIsReadAgainAfterA401() async throws {
        try await SimHarness.run { harness in
            harness.sim.setToken("first-token", user: "rotating")
            let tokenPath = try harness.write("token", "first-token\n")
            let path = try harness.write("config", harness.kubeconfig(user: "tokenFile: token"))
            try await KubeClient.withClient(context: try harness.context(path: path)) { client in
                _ = try await client.list(Pod.self)
                // The issuer rotates the token: the old one stops working, the file holds the new one.
                harness.sim.setToken("first-token", user: nil)
                harness.sim.setToken("second-token", user: "rotating")
                try Data("second-token\n".utf8).write(to: URL(fileURLWithPath: tokenPath))
                _ = try await client.list(Pod.self)
            }
            let users = harness.sim.requests.map(\.user)
            #expect(users.filter { $0 == "rotating" }.count == 2)
        }
    }

    @Test(arguments: [CertificateAuthority.KeyType.p256, .rsa2048], [false, true])
    func clientCertificateFromRelativeFilesAuthenticatesAsItsCommonName(keyType: CertificateAuthority.KeyType, traditional: Bool) async throws {
        try await SimHarness.run { harness in
            let issued = try harness.sim.certificateAuthority.issueClientCertificate(user: "alice", groups: ["devs", "system:masters"], keyType: keyType)
            _ = try harness.write("alice.crt", issued.certificatePEM)
            let keyPath = try harness.write("alice.key", issued.privateKeyPEM)
            if traditional {
                // PKCS#1 for RSA, SEC1 for EC: what older tooling writes.
                let converted = try await runCommand("openssl", ["pkey", "-in", keyPath, "-traditional"])
                #expect(converted.succeeded)
                _ = try harness.write("alice.key", converted.stdout)
                #expect(converted.stdout.contains(keyType == .rsa2048 ? "BEGIN RSA PRIVATE KEY" : "BEGIN EC PRIVATE KEY"))
            }
            let path = try harness.write("config", harness.kubeconfig(user: "client-certificate: alice.crt\nclient-key: alice.key"))
            try await KubeClient.withClient(context: try harness.context(path: path)) { client in
                _ = try await client.get(Namespace.self, "default")
            }
            #expect(harness.sim.requests.last?.user == "alice")
        }
    }

    @Test func clientCertificateFromAnotherCAFailsTheHandshake() async throws {
        try await SimHarness.run { harness in
            try await SimHarness.run { other in
                let foreign = try other.sim.certificateAuthority.issueClientCertificate(user: "mallory")
                let user = """
                    client-certificate-data: \(Data(foreign.certificatePEM.utf8).base64EncodedString())
                    client-key-data: \(Data(foreign.privateKeyPEM.utf8).base64EncodedString())
                    """
                let path = try harness.write("config", harness.kubeconfig(user: user))
                try await KubeClient.withClient(context: try harness.context(path: path)) { client in
                    let error = await #expect(throws: KubeError.self) { try await client.list(Pod.self) }
                    #expect(error?.code == .transport)
                }
            }
            #expect(!harness.sim.requests.contains { $0.user == "mallory" })
        }
    }

    @Test func basicAuth() async throws {
        try await SimHarness.run { harness in
            harness.sim.setBasicAuth(username: "bob", password: "s3cret")
            let path = try harness.write("config", harness.kubeconfig(user: "username: bob\npassword: s3cret"))
            try await KubeClient.withClient(context: try harness.context(path: path)) { client in
                _ = try await client.list(Service.self)
            }
            #expect(harness.sim.requests.last?.user == "bob")
        }
    }

    @Test func execPluginIsCachedUntilExpiryAndRunAgainAfterA401() async throws {
        try await SimHarness.run { harness in
            harness.sim.setToken("exec-one", user: "exec-user")
            try harness.writeTokenPlugin(
                token: "exec-one", also: #"printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/exec-info"; printf '%s' "$PLUGIN_FLAVOUR" > "$dir/flavour""#
            )
            let user = """
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: ./plugin.sh
                  args: ["--quiet"]
                  env: [{name: PLUGIN_FLAVOUR, value: vanilla}]
                  interactiveMode: Never
                  provideClusterInfo: true
                """
            let path = try harness.write("config", harness.kubeconfig(user: user))
            try await KubeClient.withClient(context: try harness.context(path: path)) { client in
                _ = try await client.list(Pod.self)
                _ = try await client.list(Service.self)
                #expect(await client.execPluginRuns == 1)
                // Revoked before its expiry: the 401 makes the client ask the plugin again.
                harness.sim.setToken("exec-one", user: nil)
                harness.sim.setToken("exec-two", user: "exec-user")
                _ = try harness.write("current-token", "exec-two")
                _ = try await client.list(Pod.self)
                #expect(await client.execPluginRuns == 2)
            }
            let info = try String(contentsOfFile: harness.directory.appendingPathComponent("exec-info").path, encoding: .utf8)
            #expect(info.contains(#""kind":"ExecCredential""#))
            #expect(info.contains(#""interactive":false"#))
            #expect(info.contains(harness.sim.url))
            #expect(try String(contentsOfFile: harness.directory.appendingPathComponent("flavour").path, encoding: .utf8) == "vanilla")
            #expect(harness.sim.requests.suffix(1).allSatisfy { $0.user == "exec-user" })
        }
    }

    @Test func expiredExecCredentialIsRefreshedBeforeUse() async throws {
        try await SimHarness.run { harness in
            harness.sim.setToken("short-lived", user: "exec-user")
            let script = """
                #!/bin/sh
                printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"short-lived","expirationTimestamp":"2020-01-01T00:00:00Z"}}'
                """
            _ = try harness.write("plugin.sh", script, mode: 0o755)
            let path = try harness.write("config", harness.kubeconfig(user: "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: ./plugin.sh"))
            try await KubeClient.withClient(context: try harness.context(path: path)) { client in
                _ = try await client.list(Pod.self)
                _ = try await client.list(Pod.self)
                #expect(await client.execPluginRuns == 2)
            }
        }
    }

    @Test func execPluginV1WithoutInteractiveModeIsAConfigError() async throws {
        try await SimHarness.run { harness in
            let path = try harness.write("config", harness.kubeconfig(user: "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: true"))
            try await KubeClient.withClient(context: try harness.context(path: path)) { client in
                let error = await #expect(throws: KubeError.self) { try await client.list(Pod.self) }
                #expect(error?.code == .config)
                #expect(error?.message.contains("interactiveMode") == true)
            }
        }
    }

    @Test func failingExecPluginNamesTheCommand() async throws {
        try await SimHarness.run { harness in
            let user = "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: kfwd-no-such-plugin\n  interactiveMode: Never\n  installHint: install kfwd-no-such-plugin from your cloud"
            let path = try harness.write("config", harness.kubeconfig(user: user))
            try await KubeClient.withClient(context: try harness.context(path: path)) { client in
                let error = await #expect(throws: KubeError.self) { try await client.list(Pod.self) }
                #expect(error?.code == .credentials)
                #expect(error?.message.contains("kfwd-no-such-plugin") == true)
                #expect(error?.message.contains("install kfwd-no-such-plugin from your cloud") == true)
            }
        }
    }
}
