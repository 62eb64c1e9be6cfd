import Foundation
import Logging

/// List, then watch from the list's resourceVersion, for as long as the task runs, following
/// client-go's reflector (tools/cache/reflector.go): server-side timeouts in [5, 10) minutes end
/// in an immediate re-watch from the last resourceVersion seen (event or bookmark); 410 Expired
/// and API errors relist after a backoff; a broken connection re-watches after a backoff; a
/// watch that ends in under a second with no events counts as a failure.
public struct Reflector<T: KubeResource>: Sendable {
    public let client: KubeClient
    public let namespace: String?
    public let labelSelector: String?
    public let fieldSelector: String?
    /// Server-side watch lifetime range (client-go: 5 to 10 minutes).
    public var watchTimeout: ClosedRange<Int> = 300...599

    public init(client: KubeClient, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    /// Runs until cancelled. `replace` gets every (re)list; `apply` every watch event;
    /// `failure` every failed list or watch, and `connected` every watch the server accepted
    /// (so a recovery shows even when nothing changed meanwhile).
    public func run(
        replace: @Sendable ([T], String) async -> Void,
        apply: @Sendable (WatchEvent<T>) async -> Void,
        failure: @Sendable (KubeError) async -> Void = { _ in },
        connected: @Sendable () async -> Void = {}
    ) async {
        var backoff = Backoff()
        var resourceVersion: String?
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    let list = try await self.client.list(
                        T.self, namespace: self.namespace, labelSelector: self.labelSelector, fieldSelector: self.fieldSelector
                    )
                    resourceVersion = list.metadata.resourceVersion ?? ""
                    await replace(list.items, resourceVersion!)
                }
                let started = ContinuousClock.now
                var events = 0
                let from = resourceVersion
                try await self.client.watch(
                    T.self, namespace: self.namespace, labelSelector: self.labelSelector, fieldSelector: self.fieldSelector,
                    resourceVersion: from, timeoutSeconds: Int.random(in: self.watchTimeout), onOpen: connected
                ) { event in
                    events += 1
                    switch event {
                    case .bookmark(let version, _):
                        if !version.isEmpty { resourceVersion = version }
                    case .added(let object), .modified(let object), .deleted(let object):
                        if let version = object.metadata.resourceVersion { resourceVersion = version }
                        await apply(event)
                    }
                }
                if events == 0 && ContinuousClock.now - started < .seconds(1) {
                    throw KubeError.transport("very short watch of \(T.plural): the server closed it at once")
                }
            } catch let error as KubeError {
                if Task.isCancelled { return }
                await failure(error)
                // API errors (410 Expired among them) mean the watch position is unusable: relist.
                if error.code == .api || error.code == .decoding { resourceVersion = nil }
                do { try await Task.sleep(for: backoff.next()) } catch { return }
            } catch {
                return
            }
        }
    }
}
