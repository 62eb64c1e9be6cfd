@testable import KubeClient
import Testing

@testable import Forwarding

@Suite struct ForwardErrorTests {
    /// What NIOSSL and BoringSSL print for a certificate the CA does not sign, with the build's
    /// paths: people get one line without them, the log the whole.
    @Test func libraryTextBecomesOneLineWithoutSourcePaths() {
        let text = """
            cannot reach cluster 'kind' at https://127.0.0.1:6443 (context 'kind'): TLS failed (is the certificate-authority right?): \
            handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED \
            at /work/main/.build/checkouts/swift-nio-ssl/Sources/CNIOBoringSSL/ssl/handshake.cc:393]))
            file: /work/main/.build/checkouts/swift-nio-ssl/Sources/NIOSSL/SSLConnection.swift:123
            """ + String(repeating: " more detail", count: 80)
        let error = ForwardError(KubeError(code: .transport, message: text))
        #expect(error.code == .clusterUnreachable)
        #expect(!error.message.contains("\n"))
        #expect(!error.message.contains(".build"))
        #expect(!error.message.contains(".swift"))
        #expect(!error.message.contains("handshake.cc"))
        #expect(error.message.count <= ErrorSummary.limit)
        #expect(error.message.hasPrefix("cannot reach cluster 'kind' at https://127.0.0.1:6443"))
        #expect(error.message.contains("CERTIFICATE_VERIFY_FAILED"))
        #expect(error.detail == text, "the whole text stays for the log")
    }

    /// A 403 names what was refused; the fix is the smallest rule that allows it.
    @Test func aRefusalGivesTheRuleThatAllowsIt() {
        var refused = KubeError(
            code: .api,
            message: #"pods "web-0" is forbidden: User "system:serviceaccount:shop:dev" cannot get resource "pods/portforward" in API group "" in the namespace "shop" (403 Forbidden in context 'prod')"#
        )
        refused.httpStatus = 403
        let error = ForwardError(refused)
        #expect(error.code == .forbidden)
        #expect(error.fix == #"ask for a Role in shop with {apiGroups: [""], resources: [pods/portforward], verbs: [get]} (docs/rbac.md), or use a context with more rights"#)
        let cluster = AccessCheck(refusal: #"nodes is forbidden: User "dev" cannot list resource "nodes" in API group "" at the cluster scope"#)
        #expect(cluster == AccessCheck("list", "nodes", namespace: nil))
        #expect(cluster?.fix.hasPrefix("ask for a ClusterRole with") == true)
        #expect(AccessCheck(refusal: "forbidden: something else") == nil)
        #expect(AccessCheck(refusal: #"User "dev" cannot get path "/metrics""#) == nil)
    }

    @Test func shortMessagesStayAsTheyAre() {
        let error = ForwardError("pod web-0 in namespace shop was deleted")
        #expect(error.message == "pod web-0 in namespace shop was deleted")
        #expect(error.detail == nil)
        #expect(error.code == .other)
        // A URL is not a source path.
        #expect(ErrorSummary.oneLine("cannot reach https://10.0.0.1:6443/api/v1/pods.json") == "cannot reach https://10.0.0.1:6443/api/v1/pods.json")
    }

    @Test(arguments: [
        (KubeError.Code.credentials, nil as Int?, ForwardError.Code.credentials),
        (.config, nil, .kubeconfig),
        (.transport, nil, .clusterUnreachable),
        (.api, 401, .unauthorized),
        (.api, 403, .forbidden),
        (.api, 503, .clusterUnreachable),
    ])
    func kubeErrorsAreCodedByWhatTheUserMustDo(kube: KubeError.Code, status: Int?, code: ForwardError.Code) {
        var error = KubeError(code: kube, message: "x")
        error.httpStatus = status
        #expect(ForwardError(error).code == code)
        let needsUser: Set<ForwardError.Code> = [.credentials, .kubeconfig, .unauthorized, .forbidden]
        #expect(ForwardError(error).needsUser == needsUser.contains(code))
    }

    @Test(arguments: [
        (PortForwardError.Kind.podNotFound, ForwardError.Code.podMissing), (.portNotListening, .portMissing), (.forbidden, .forbidden),
        (.unauthorized, .unauthorized), (.transport, .clusterUnreachable), (.configuration, .kubeconfig), (.remote, .other),
    ])
    func portForwardErrorsAreCodedTheSameWay(kind: PortForwardError.Kind, code: ForwardError.Code) {
        #expect(ForwardError(PortForwardError(kind: kind, message: "x")).code == code)
    }
}
