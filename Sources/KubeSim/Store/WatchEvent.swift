import KubeLabels

/// One change to an object, as a watch stream carries it.
struct WatchEvent: Sendable {
    enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        case error = "ERROR"
    }

    let kind: Kind
    let object: JSON
}

/// The identity of a stored object.
struct ObjectKey: Hashable, Sendable {
    let resource: ResourceType
    let namespace: String
    let name: String
}

/// A change kept in the bounded history, so that a watch can resume from a recent
/// resourceVersion and an old one gets 410 Expired.
struct StoredChange: Sendable {
    let resourceVersion: Int
    let key: ObjectKey
    let previous: JSON?
    let current: JSON?
}

/// What a watch asks for.
struct WatchFilter: Sendable {
    let resource: ResourceType
    let namespace: String?
    let labels: LabelSelector
    let fields: FieldSelector

    func matches(_ key: ObjectKey, _ object: JSON?) -> Bool {
        guard let object, key.resource == self.resource else { return false }
        if let namespace = self.namespace, key.namespace != namespace { return false }
        return self.labels.matches(object[path: ["metadata", "labels"]]?.stringMap ?? [:]) && self.fields.matches(object)
    }

    /// The event a watcher with this filter sees for a change: a modification that moves an object
    /// into or out of the selector is seen as ADDED or DELETED
    /// (staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go `convertToWatchEvent`).
    func event(for change: StoredChange) -> WatchEvent? {
        let before = self.matches(change.key, change.previous)
        let after = self.matches(change.key, change.current)
        switch (before, after, change.current) {
        case (_, true, .some(let current)) where change.previous == nil: return WatchEvent(kind: .added, object: current)
        case (true, true, .some(let current)): return WatchEvent(kind: .modified, object: current)
        case (false, true, .some(let current)): return WatchEvent(kind: .added, object: current)
        case (true, false, .some(let current)): return WatchEvent(kind: .deleted, object: current)
        case (true, _, .none):
            var gone = change.previous!
            gone[path: ["metadata", "resourceVersion"]] = .string(String(change.resourceVersion))
            return WatchEvent(kind: .deleted, object: gone)
        default: return nil
        }
    }
}
