import Synchronization

/// Observation and fault injection for tests: what requests arrived, and how the server should
/// misbehave.
final class ServerHooks: Sendable {
    private struct State {
        var requests: [RecordedRequest] = []
        var responseDelay: Duration = .zero
        var portForwardTunnel = true
        var portForwardSPDY = true
        var faults: (@Sendable (KubeSimFault) -> Void)?
    }

    private let state = Mutex(State())
    let bookmarkInterval: TimeAmount

    init(bookmarkInterval: Duration) {
        self.bookmarkInterval = TimeAmount(bookmarkInterval)
    }

    var responseDelay: Duration {
        get { self.state.withLock { $0.responseDelay } }
        set { self.state.withLock { $0.responseDelay = newValue } }
    }

    var portForwardTunnel: Bool {
        get { self.state.withLock { $0.portForwardTunnel } }
        set { self.state.withLock { $0.portForwardTunnel = newValue } }
    }

    var portForwardSPDY: Bool {
        get { self.state.withLock { $0.portForwardSPDY } }
        set { self.state.withLock { $0.portForwardSPDY = newValue } }
    }

    /// Plays a fault asked for through `POST /kubesim/faults`, after the answer has gone out.
    var faults: (@Sendable (KubeSimFault) -> Void)? {
        get { self.state.withLock { $0.faults } }
        set { self.state.withLock { $0.faults = newValue } }
    }

    func record(_ request: APIRequest) {
        let entry = RecordedRequest(method: request.method, path: request.path, query: request.query, user: request.user.name)
        self.state.withLock { $0.requests.append(entry) }
    }

    var requests: [RecordedRequest] { self.state.withLock { $0.requests } }
}

/// A request the server answered, as tests inspect it.
public struct RecordedRequest: Sendable {
    public let method: String
    public let path: String
    public let query: [String: String]
    public let user: String

    public var isWatch: Bool { self.query["watch"].map { $0 != "0" && $0 != "false" } ?? false }
}

import NIOCore
