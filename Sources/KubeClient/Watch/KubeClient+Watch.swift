import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

extension KubeClient {
    /// Opens one watch, calls `onOpen` once the server has accepted it, and hands each event to
    /// `onEvent` until the server ends the stream
    /// (its `timeoutSeconds` ran out), `onEvent` throws, or the task is cancelled.
    ///
    /// An `ERROR` event becomes a thrown ``KubeError`` carrying its Status (410 `Expired` means
    /// relist). Reconnecting is the caller's business; ``Reflector`` does it as client-go does.
    public func watch<T: KubeResource>(
        _ type: T.Type, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        resourceVersion: String?, timeoutSeconds: Int = 290, bookmarks: Bool = true,
        onOpen: () async -> Void = {}, onEvent: (WatchEvent<T>) async throws -> Void
    ) async throws {
        var query: [(String, String)] = [("watch", "true")]
        if bookmarks { query.append(("allowWatchBookmarks", "true")) }
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        query.append(("timeoutSeconds", String(timeoutSeconds)))
        let response = try await self.execute(.GET, T.collectionPath(namespace: namespace ?? self.context.namespace), query: query)
        await onOpen()
        let decoder = JSONDecoder()
        do {
            for try await line in response.body.splitLines(omittingEmptySubsequences: true, maximumBufferSize: 16 << 20) {
                let event: RawWatchEvent<T>
                do {
                    event = try decoder.decode(RawWatchEvent<T>.self, from: line)
                } catch {
                    throw KubeError.decoding("a watch event from \(self.context.server) could not be decoded: \(error)")
                }
                switch event.decoded {
                case .event(let event):
                    try await onEvent(event)
                case .error(let status):
                    throw KubeError(
                        code: .api, message: "watch of \(T.plural) ended with \(status.code ?? 0) \(status.reason ?? ""): \(status.message ?? "")",
                        httpStatus: status.code, reason: status.reason, retryAfterSeconds: status.details?.retryAfterSeconds
                    )
                }
            }
        } catch let error as KubeError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw KubeError.transport("the watch of \(T.plural) on \(self.context.server) broke: \(error)")
        }
    }
}
