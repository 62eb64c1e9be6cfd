import KubeClient

/// Where a forward's cluster comes from, kept so that the forward can read it again when the
/// kubeconfig changes on disk (a context switched, credentials rotated).
public struct KubeconfigSource: Sendable {
    public var loader: KubeconfigLoader
    /// The context; nil for the kubeconfig's current context, which then follows
    /// `kubectl config use-context`.
    public var context: String?
    /// The namespace; nil for the context's (else `default`).
    public var namespace: String?

    public init(loader: KubeconfigLoader = KubeconfigLoader(), context: String? = nil, namespace: String? = nil) {
        self.loader = loader
        self.context = context
        self.namespace = namespace
    }

    /// Reads the kubeconfig now.
    public func resolve() throws(ForwardError) -> KubeContext {
        do {
            return try KubeContext(try self.loader.load(), context: self.context)
        } catch {
            throw ForwardError(error)
        }
    }
}
