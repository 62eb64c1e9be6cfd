import ArgumentParser
import Forwarding
import KubeClient

/// Which cluster and namespace, as kubectl's flags say it; shared by the commands that name one.
struct ClusterOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Namespace (default: the context's, else 'default').")
    var namespace: String?

    @Option(help: "Kubeconfig context (default: the current context).")
    var context: String?

    @Option(help: "Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
    var kubeconfig: String?

    /// Where the context comes from, as kubectl reads it.
    var source: KubeconfigSource {
        KubeconfigSource(loader: KubeconfigLoader(explicitPath: self.kubeconfig), context: self.context, namespace: self.namespace)
    }
}
