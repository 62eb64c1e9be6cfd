/// One event of a watch stream (section 4.2 of kubernetes-wire.md).
public enum WatchEvent<T: KubeResource>: Sendable {
    case added(T)
    case modified(T)
    case deleted(T)
    /// Progress without a change: the resourceVersion to resume from, and whether it marks the end
    /// of a streaming list's initial events.
    case bookmark(resourceVersion: String, initialEventsEnd: Bool)
}

/// The wire shape of an event; the object is decoded according to the type.
struct RawWatchEvent<T: KubeResource>: Decodable {
    private struct Bookmark: Decodable {
        struct Metadata: Decodable {
            var resourceVersion: String?
            var annotations: [String: String]?
        }
        var metadata: Metadata
    }

    enum Decoded {
        case event(WatchEvent<T>)
        case error(Status)
    }

    let decoded: Decoded

    private enum Keys: String, CodingKey { case type, object }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ADDED": self.decoded = .event(.added(try container.decode(T.self, forKey: .object)))
        case "MODIFIED": self.decoded = .event(.modified(try container.decode(T.self, forKey: .object)))
        case "DELETED": self.decoded = .event(.deleted(try container.decode(T.self, forKey: .object)))
        case "BOOKMARK":
            let bookmark = try container.decode(Bookmark.self, forKey: .object)
            self.decoded = .event(.bookmark(
                resourceVersion: bookmark.metadata.resourceVersion ?? "",
                initialEventsEnd: bookmark.metadata.annotations?["k8s.io/initial-events-end"] == "true"
            ))
        case "ERROR": self.decoded = .error(try container.decode(Status.self, forKey: .object))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown watch event type '\(type)'")
        }
    }
}
