import Foundation
import ConfigStore
import Forwarding

/// The add and edit form: alias, target, ports, namespace and context, typed in place, each
/// checked as `kfwd add` checks it, with the problem shown beside the field it is about. An
/// edit keeps the alias and every setting the form does not show (tags, UDP, probe, ...).
public struct ForwardForm: Sendable, Equatable {
    public enum Field: Int, Sendable, CaseIterable {
        case alias, target, ports, namespace, context

        public var label: String {
            switch self {
            case .alias: "Alias"
            case .target: "Target"
            case .ports: "Ports"
            case .namespace: "Namespace"
            case .context: "Context"
            }
        }

        public var hint: String {
            switch self {
            case .alias: "a name for it, e.g. web"
            case .target: "svc/web, deploy/api, pod/db-0, host/db.internal, ip/10.0.0.5 or app=web"
            case .ports: "LOCAL:REMOTE pairs, e.g. 8080:80 5432"
            case .namespace: "empty: the context's namespace"
            case .context: "←/→ picks one of the kubeconfig's"
            }
        }
    }

    public enum Outcome: Sendable, Equatable {
        case editing
        case cancelled
        case submitted(alias: String, config: ForwardConfig)
    }

    public private(set) var values: [Field: String] = [:]
    public private(set) var focus: Field = .alias
    /// The problem with each field, after a try to save.
    public private(set) var problems: [Field: String] = [:]
    /// The kubeconfig's contexts; "" (first) is its current one.
    public let contexts: [String]
    /// Aliases already saved: a new forward needs its own.
    let taken: Set<String>
    /// A saved forward being edited.
    public struct Saved: Sendable, Equatable {
        public let alias: String
        public let config: ForwardConfig
    }

    /// The saved forward being edited; nil when adding one.
    public let editing: Saved?

    public init(contexts: [String], taken: Set<String>) {
        self.contexts = [""] + contexts.filter { !$0.isEmpty }
        self.taken = taken
        self.editing = nil
        for field in Field.allCases { self.values[field] = "" }
    }

    /// The form of a saved forward, its fields filled in, the alias fixed.
    public init(editing alias: String, config: ForwardConfig, contexts: [String]) {
        self.contexts = [""] + (contexts + [config.context ?? ""]).filter { !$0.isEmpty }.uniqued
        self.taken = []
        self.editing = Saved(alias: alias, config: config)
        self.values = [
            .alias: alias, .target: config.target ?? config.selector ?? "", .ports: config.ports.joined(separator: " "),
            .namespace: config.namespace ?? "", .context: config.context ?? "",
        ]
        self.focus = .target
    }

    /// Whether typing may change the field.
    func isEditable(_ field: Field) -> Bool {
        field != .context && !(field == .alias && self.editing != nil)
    }

    public func value(_ field: Field) -> String { self.values[field] ?? "" }

    /// A key typed in the form.
    public mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case .escape, .control("c"): return .cancelled
        case .tab, .down: self.move(by: 1)
        case .backTab, .up: self.move(by: -1)
        case .enter:
            if let (alias, config) = self.validated() { return .submitted(alias: alias, config: config) }
        case .backspace:
            if self.isEditable(self.focus), !self.value(self.focus).isEmpty { self.values[self.focus]?.removeLast() }
        case .left, .right:
            if self.focus == .context { self.pickContext(by: key == .right ? 1 : -1) }
        case .control("u"):
            if self.isEditable(self.focus) { self.values[self.focus] = "" }
        case .character(let character):
            if self.focus == .context {
                if character == " " { self.pickContext(by: 1) }
            } else if self.isEditable(self.focus) {
                self.values[self.focus, default: ""].append(character)
            }
        default: break
        }
        return .editing
    }

    private mutating func move(by step: Int) {
        let all = Field.allCases.filter { $0 != .alias || self.editing == nil }
        let index = all.firstIndex(of: self.focus) ?? 0
        self.focus = all[(index + step + all.count) % all.count]
    }

    private mutating func pickContext(by step: Int) {
        let index = self.contexts.firstIndex(of: self.value(.context)) ?? 0
        self.values[.context] = self.contexts[(index + step + self.contexts.count) % self.contexts.count]
    }

    /// The forward to save, or nil with ``problems`` set and the focus on the first field
    /// that has one.
    mutating func validated() -> (String, ForwardConfig)? {
        var problems: [Field: String] = [:]
        let alias = self.value(.alias).trimmed
        if alias.isEmpty {
            problems[.alias] = "give it a name, e.g. web"
        } else if self.editing == nil, self.taken.contains(alias) {
            problems[.alias] = "\(alias) is already saved: pick another name"
        } else if alias.contains(where: \.isWhitespace) {
            problems[.alias] = "no spaces in an alias"
        }
        let target = self.value(.target).trimmed
        var config = self.editing?.config ?? ForwardConfig(ports: [])
        config.ports = self.value(.ports).split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        if target.contains("=") && !target.contains("/") {
            (config.selector, config.target) = (target, nil)
        } else {
            (config.target, config.selector) = (target, nil)
        }
        let namespace = self.value(.namespace).trimmed
        config.namespace = namespace.isEmpty ? nil : namespace
        config.context = self.value(.context).isEmpty ? nil : self.value(.context)
        do throws(ForwardError) {
            if target.isEmpty { throw ForwardError(code: .invalidSpec, "give a target, e.g. svc/web") }
            if let selector = config.selector { _ = try ForwardTarget.selector(validating: selector) } else { _ = try ForwardTarget(parsing: target) }
        } catch {
            problems[.target] = error.message
        }
        if problems[.target] == nil {
            do throws(ForwardError) {
                _ = try config.forwardSpec(alias: alias.isEmpty ? "new" : alias)
            } catch {
                problems[.ports] = error.message
            }
        }
        self.problems = problems
        if let first = Field.allCases.first(where: { problems[$0] != nil }) {
            self.focus = first
            return nil
        }
        return (alias, config)
    }
}

extension String {
    var trimmed: String { self.trimmingCharacters(in: .whitespaces) }
}

extension Array where Element: Hashable {
    /// In order, each once.
    var uniqued: [Element] {
        var seen: Set<Element> = []
        return self.filter { seen.insert($0).inserted }
    }
}
