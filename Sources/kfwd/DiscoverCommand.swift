import ArgumentParser
import ConfigStore
import Forwarding
import Foundation

/// `kfwd discover`: the forwards the cluster's Services propose through their annotations
/// (kftray's and kfwd's own), printed, or saved with `--import`.
struct DiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "Find the forwards Services propose in their annotations (kftray.app/enabled and kftray.app/configs, kfwd.dev/forwards), and save them with --import.",
        discussion: """
            kfwd.dev/forwards on a Service is a YAML or JSON list of forwards to it, e.g.
              kfwd.dev/forwards: '[{alias: web, ports: ["8080:http"], hostnames: [web.shop.local]}]'
            Each entry takes alias, ports, and optionally address, hostnames, tags and probe.
            """
    )

    @OptionGroup var cluster: ClusterOptions

    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "Every namespace the user may list.")
    var allNamespaces = false

    @Flag(name: .customLong("import"), help: "Save the proposed forwards (one already saved under the alias is replaced).")
    var save = false

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        if self.allNamespaces && self.cluster.namespace != nil { throw ValidationError("-A and -n exclude each other: give one") }
    }

    func run() async throws {
        let found: ServiceDiscovery.Found
        do throws(ForwardError) {
            found = try await ServiceDiscovery.discover(self.cluster.source, in: self.allNamespaces ? .all : .one(self.cluster.namespace)).found
        } catch {
            Terminal.error(error.message)
            throw ExitCode.failure
        }
        for problem in found.problems { Terminal.warning(problem) }
        var saved: ImportSummary?
        if self.save {
            let store = try ConfigStore.forCLI()
            // A kubeconfig named on the command line is the one the saved forwards use.
            saved = try ConfigStore.reporting { () throws(ConfigStoreError) in try store.save(found.proposals, kubeconfig: self.cluster.kubeconfig) }
        }
        switch self.output {
        case .json:
            try Terminal.json(found.proposals)
        case .text:
            if found.proposals.isEmpty { Terminal.line("No Service proposes a forward.") }
            for proposal in found.proposals {
                let where_ = "\(proposal.config.target ?? "?") in \(proposal.config.namespace ?? "?")"
                Terminal.line("\(proposal.alias): \(where_) \(proposal.config.ports.joined(separator: " ")) (\(proposal.source))")
            }
            if let saved, !found.proposals.isEmpty {
                Terminal.line("Saved: \(saved.added.count) added, \(saved.updated.count) updated, \(saved.unchanged.count) unchanged; kfwd start --all runs them")
            }
        }
    }
}
