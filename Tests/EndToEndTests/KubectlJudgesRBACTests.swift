import Foundation
import KubeSim
import Testing

/// KubeSim's RBAC as kubectl sees it: Roles applied with `kubectl apply`, tokens from
/// `kubectl create token`, `kubectl auth can-i` answers as a real cluster gives them for the
/// same Role, refusals worded as the apiserver words them, and kubectl's own port-forward
/// working with exactly its rights.
@Suite struct KubectlJudgesRBACTests {
    private func kubectl(_ harness: SimHarness, _ kubeconfig: String, _ arguments: [String]) async throws -> CommandResult {
        try await runCommand("kubectl", arguments, environment: ["KUBECONFIG": kubeconfig, "HOME": harness.directory.path])
    }

    @Test func canIAnswersForKubectlsPortForwardRights() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            let dev = try await RestrictedAccount.create(harness, rules: RestrictedAccount.kubectlRules)
            // What a real cluster answers for this Role (kubectl 1.32 against kube-apiserver 1.32).
            let expected: [([String], Bool)] = [
                (["get", "pods"], true), (["list", "pods"], true), (["watch", "pods"], false),
                (["get", "services"], true), (["list", "services"], false), (["watch", "services"], false),
                (["create", "pods", "--subresource=portforward"], true), (["get", "pods", "--subresource=portforward"], false),
                (["list", "endpointslices.discovery.k8s.io"], false), (["create", "pods"], false), (["delete", "pods"], false),
                (["get", "pods", "-n", "kube-system"], false), (["create", "selfsubjectaccessreviews.authorization.k8s.io"], true),
            ]
            for (arguments, allowed) in expected {
                let answer = try await self.kubectl(harness, dev.kubeconfigPath, ["auth", "can-i"] + arguments)
                #expect(answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == (allowed ? "yes" : "no"), "can-i \(arguments): \(answer.stdout) \(answer.stderr)")
                #expect(answer.succeeded == allowed, "can-i \(arguments) exit status")
            }
            let list = try await self.kubectl(harness, dev.kubeconfigPath, ["auth", "can-i", "--list"])
            let rows = list.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.contains(["pods/portforward", "[]", "[]", "[create]"]), "\(list.stdout)")
            #expect(rows.contains(["pods", "[]", "[]", "[get", "list]"]), "\(list.stdout)")
            #expect(rows.contains(["services", "[]", "[]", "[get]"]), "\(list.stdout)")
            // The admin the kubeconfig names is in system:masters.
            #expect(try await self.kubectl(harness, harness.kubeconfigPath, ["auth", "can-i", "*", "*"]).stdout == "yes\n")
        }
    }

    @Test func aRefusalNamesTheUserVerbResourceAndNamespace() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            let dev = try await RestrictedAccount.create(harness, rules: RestrictedAccount.kubectlRules)
            let slices = try await self.kubectl(harness, dev.kubeconfigPath, ["get", "endpointslices"])
            #expect(!slices.succeeded)
            #expect(
                slices.stderr.contains(
                    #"Error from server (Forbidden): endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:default:dev" cannot list resource "endpointslices" in API group "discovery.k8s.io" in the namespace "default""#
                ), "\(slices.stderr)")
            let delete = try await self.kubectl(harness, dev.kubeconfigPath, ["delete", "pod", "nosuch"])
            #expect(delete.stderr.contains(#"pods "nosuch" is forbidden: User "system:serviceaccount:default:dev" cannot delete resource "pods""#), "\(delete.stderr)")
            // A token that has expired authenticates nobody.
            harness.sim.setToken("expired", user: "late", expires: Date().addingTimeInterval(-1))
            let expired = try await self.kubectl(harness, try harness.write("expired", try harness.kubeconfig(user: "token: expired")), ["get", "pods"])
            #expect(expired.stderr.contains("You must be logged in to the server (Unauthorized)"), "\(expired.stderr)")
            // Too short a token is refused as the apiserver refuses it.
            let short = try await self.kubectl(harness, harness.kubeconfigPath, ["create", "token", "dev", "--duration=1m"])
            #expect(short.stderr.contains("may not specify a duration less than 10 minutes"), "\(short.stderr)")
        }
    }

    @Test func kubectlPortForwardsWithExactlyItsRights() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
            let dev = try await RestrictedAccount.create(harness, rules: RestrictedAccount.kubectlRules)
            let environment = ["KUBECONFIG": dev.kubeconfigPath, "HOME": harness.directory.path]
            let run = try await runLongLived(.name("kubectl"), ["port-forward", "svc/web", ":80"], environment: environment) { lines in
                let port = try await forwardedPort(lines)
                return try await runCommand("curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/"]).stdout
            }
            #expect(run.value.hasPrefix("pod: web-"), "\(run.lines)")
            // The tunnel's GET needs get on pods/portforward: refused, kubectl fell back to SPDY's POST.
            #expect(harness.sim.portForwardUpgrades == ["GET", "POST"], "\(harness.sim.portForwardUpgrades)")
        }
    }
}
