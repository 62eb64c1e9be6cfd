/// Who may use a relay. A relay started with a secret in its environment (a run by hand) is owned
/// from the start. One that kfwd deploys starts unowned, so that no secret sits in its pod spec
/// for anyone who may read pods: the first presence stream claims it with its secret, and from
/// then on only streams with that secret are served, a second would-be owner included.
public struct RelayClaim: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case unowned
        case owned(secret: String)
    }

    /// What a stream's header meets.
    public enum Verdict: Sendable, Equatable {
        /// The secret is the owner's.
        case accepted
        /// A presence stream made its secret the owner's.
        case claimed
        /// Not the owner's secret; or, unowned, not a presence stream with a secret long enough
        /// to be one (traffic before a claim would make the relay anyone's).
        case refused
    }

    /// The shortest secret a claim may set: half of what ``RelaySecret/generate()`` makes.
    public static let shortestSecret = 32

    public private(set) var state: State

    public init(secret: String?) {
        self.state = secret.map { .owned(secret: $0) } ?? .unowned
    }

    public mutating func offer(_ secret: String, presence: Bool) -> Verdict {
        switch self.state {
        case .owned(let owner):
            return RelaySecret.matches(secret, owner) ? .accepted : .refused
        case .unowned:
            guard presence, secret.utf8.count >= Self.shortestSecret else { return .refused }
            self.state = .owned(secret: secret)
            return .claimed
        }
    }
}
