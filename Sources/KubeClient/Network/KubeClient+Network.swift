import AsyncHTTPClient
import Foundation
import NIOCore

extension KubeClient {
    /// Tells `observer` of every ``NetworkNotice`` about this client's cluster, until
    /// ``stopObservingNetwork(_:)`` with the returned id.
    public func observeNetwork(_ observer: @escaping @Sendable (NetworkNotice) -> Void) -> UInt64 {
        self.networkObservers.withLock { table in
            defer { table.next += 1 }
            table.observers[table.next] = observer
            return table.next
        }
    }

    /// How many observe this client's network notices: its live transports, so its forwards.
    public var networkObserverCount: Int { self.networkObservers.withLock { $0.observers.count } }

    public func stopObservingNetwork(_ id: UInt64) {
        _ = self.networkObservers.withLock { $0.observers.removeValue(forKey: id) }
    }

    /// Tells every observer. Before `.reestablished` reaches them, REST requests move to a new
    /// connection pool and port-forward sessions are rechecked: a connection made before the
    /// change may be dead without knowing. After a wake (no settling) sessions are suspect at
    /// once: a connection accepted as the process resumes must not wait on a dead one.
    public func announce(_ notice: NetworkNotice) {
        switch notice {
        case .reestablished:
            self.retireConnectionPool()
            self.portForwardSessions.recheck()
        case .changed(_, .zero):
            self.portForwardSessions.recheck()
        case .changed, .unreachable:
            break
        }
        let observers = self.networkObservers.withLock { Array($0.observers.values) }
        for observer in observers { observer(notice) }
    }

    /// Whether the API server answers now: `GET /version` on a connection of its own (any HTTP
    /// answer counts; a refusal of the credentials is the informers' to report), within `timeout`.
    /// - Returns: nil when it answered, else why not.
    public func probe(timeout: Duration) async -> KubeError? {
        // A pool of its own: after a change, a pooled connection may hang for the whole timeout
        // and says nothing about the path as it is now.
        let pool: HTTPClient
        do {
            let presented = try await self.credentials.current()
            pool = try self.makePool(identity: CredentialProvider.Presented(clientCertificatePEM: presented.clientCertificatePEM, clientKeyPEM: presented.clientKeyPEM))
        } catch {
            return error
        }
        defer { pool.shutdown().whenComplete { _ in } }
        do {
            let response = try await self.execute(.GET, "/version", deadline: timeout, pool: pool)
            _ = try? await response.body.collect(upTo: 1 << 16)
            return nil
        } catch {
            if error.code == .api { return nil }
            return error
        }
    }
}
