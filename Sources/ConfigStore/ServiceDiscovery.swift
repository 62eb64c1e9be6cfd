import Forwarding
import Foundation
import KubeClient
import Logging
import Yams

/// Forwards proposed by the cluster's Services: kftray's annotations (`kftray.app/enabled:
/// "true"`, and `kftray.app/configs: "alias-localport-target,..."`, each split on `-` into
/// three parts, the target a Service port's number or name; without it, one forward per port) and
/// kfwd's own, `kfwd.dev/forwards`: a YAML or JSON list of forwards to this Service, each with
/// `alias`, `ports` and optionally `address`, `hostnames`, `tags`, `probe`.
public enum ServiceDiscovery {
    public static let kfwdAnnotation = "kfwd.dev/forwards"
    static let kftrayEnabled = "kftray.app/enabled"
    static let kftrayConfigs = "kftray.app/configs"

    /// One proposed forward.
    public struct Proposal: Sendable, Equatable, Encodable {
        public let alias: String
        public let config: ForwardConfig
        /// The annotation it came from.
        public let source: String

        public init(alias: String, config: ForwardConfig, source: String) {
            self.alias = alias
            self.config = config
            self.source = source
        }
    }

    /// The forwards a Service proposes; an annotation that cannot be read is an error naming the
    /// Service and the annotation. Services without either annotation propose nothing.
    public static func proposals(for service: Service, context: String?) throws(ConfigStoreError) -> [Proposal] {
        let annotations = service.metadata.annotations ?? [:]
        let name = service.metadata.name ?? ""
        let namespace = service.metadata.namespace ?? "default"
        let at = "service \(namespace)/\(name)"
        let base = { (ports: [String]) in ForwardConfig(target: "svc/\(name)", ports: ports, namespace: namespace, context: context) }
        var proposals: [Proposal] = []
        if let text = annotations[Self.kfwdAnnotation] {
            let entries: [AliasedForwardConfig]
            do { entries = try YAMLDecoder().decode([AliasedForwardConfig].self, from: text) } catch {
                throw ConfigStoreError("\(at): annotation \(Self.kfwdAnnotation) is not a list of forwards: \(SyntaxErrorText.yaml(error) ?? "\(error)")")
            }
            for (index, entry) in entries.enumerated() {
                guard let alias = entry.alias, !alias.isEmpty else {
                    throw ConfigStoreError("\(at): annotation \(Self.kfwdAnnotation) entry \(index + 1) has no alias")
                }
                var config = base(entry.config.ports)
                config.address = entry.config.address
                config.hostnames = entry.config.hostnames
                config.tags = entry.config.tags
                config.probe = entry.config.probe
                proposals.append(Proposal(alias: alias, config: config, source: Self.kfwdAnnotation))
            }
        } else if annotations[Self.kftrayEnabled] == "true" {
            let ports = service.spec?.ports ?? []
            if let text = annotations[Self.kftrayConfigs], !text.trimmingCharacters(in: .whitespaces).isEmpty {
                for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    let parts = item.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                    guard parts.count == 3, !parts[0].isEmpty, let local = Int(parts[1]), (0...65535).contains(local), !parts[2].isEmpty else {
                        throw ConfigStoreError("\(at): annotation \(Self.kftrayConfigs) item '\(item)' is not alias-localport-target (e.g. web-8080-80 or web-8080-http)")
                    }
                    proposals.append(Proposal(alias: parts[0], config: base(["\(local):\(parts[2])"]), source: Self.kftrayConfigs))
                }
            } else {
                for port in ports {
                    let alias = ports.count == 1 ? name : "\(name)-\(port.name ?? String(port.port))"
                    let local: Int = if case .int(let target)? = port.targetPort { target } else { port.port }
                    proposals.append(Proposal(alias: alias, config: base(["\(local):\(port.port)"]), source: Self.kftrayEnabled))
                }
            }
        }
        for proposal in proposals {
            do throws(ForwardError) { _ = try proposal.config.forwardSpec(alias: proposal.alias) } catch {
                throw ConfigStoreError("\(at): forward '\(proposal.alias)': \(error.message)")
            }
        }
        return proposals
    }

    /// What one pass over the cluster found: the proposals, and what could not be read (a
    /// namespace the user may not list, an annotation that does not parse), each said once.
    public struct Found: Sendable {
        public var proposals: [Proposal] = []
        public var problems: [String] = []
    }

    /// Which namespaces to look in.
    public enum Namespaces: Sendable {
        /// Every namespace the user may list.
        case all
        /// One; nil for the context's.
        case one(String?)
    }

    /// The proposals of the cluster `source` names (`kfwd discover`, the dashboard's and the
    /// TUI's discover): its context's name, and what was found.
    /// - Throws: ``ForwardError`` when the kubeconfig or its credentials cannot be used.
    public static func discover(_ source: KubeconfigSource, in namespaces: Namespaces) async throws(ForwardError) -> (context: String, found: Found) {
        let context = try source.resolve()
        var logger = Logger(label: "kfwd")
        logger.logLevel = .critical
        let names: [String]? =
            switch namespaces {
            case .all: nil
            case .one(let namespace): [namespace ?? context.namespace]
            }
        do {
            let found = try await KubeClient.withClient(context: context, logger: logger) { client in
                await Self.discover(client: client, namespaces: names, context: source.context)
            }
            return (context.name, found)
        } catch let error as KubeError {
            throw ForwardError(error)
        } catch {
            throw ForwardError(code: .other, "\(error)")
        }
    }

    /// Lists the Services of `namespaces` (all the user may list when nil), eight namespaces at
    /// a time.
    public static func discover(client: KubeClient, namespaces: [String]?, context: String?) async -> Found {
        var found = Found()
        let names: [String]
        if let namespaces {
            names = namespaces
        } else {
            do { names = try await client.list(Namespace.self).items.compactMap(\.metadata.name).sorted() } catch {
                found.problems.append("cannot list namespaces (\(error.message)): give one with -n")
                return found
            }
        }
        var results: [String: Result<[Service], KubeError>] = [:]
        for batch in stride(from: 0, to: names.count, by: 8).map({ Array(names[$0..<min($0 + 8, names.count)]) }) {
            await withTaskGroup(of: (String, Result<[Service], KubeError>).self) { group in
                for namespace in batch {
                    group.addTask {
                        do throws(KubeError) { return (namespace, .success(try await client.list(Service.self, namespace: namespace).items)) } catch {
                            return (namespace, .failure(error))
                        }
                    }
                }
                for await (namespace, result) in group { results[namespace] = result }
            }
        }
        for namespace in names {
            switch results[namespace] {
            case .success(let services)?:
                for service in services.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
                    do throws(ConfigStoreError) { found.proposals += try Self.proposals(for: service, context: context) } catch {
                        found.problems.append(error.description)
                    }
                }
            case .failure(let error)?:
                found.problems.append("namespace \(namespace) skipped: \(ForwardError(error).message)")
            case nil:
                break
            }
        }
        return found
    }
}
