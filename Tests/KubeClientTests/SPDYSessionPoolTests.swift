import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import KubeClient

/// The sessions every transport of a client shares: one per pod and loop however many forwards
/// want it, kept while any of them does, and their slow readers told to all of them.
struct SPDYSessionPoolTests {
    final class Dials: Sendable {
        let count = Mutex(0)
    }

    let loop = NIOAsyncTestingEventLoop()

    /// A connected session on a test channel, as a dial would hand it over.
    func session() async throws -> SPDYSessionPool.Session {
        let channel = NIOAsyncTestingChannel(loop: self.loop)
        let handler = try await self.loop.submit { [loop = self.loop] in
            let handler = SPDYClientSessionHandler(pingPeriod: .seconds(5), describe: { text, _ in PortForwardError(kind: .transport, message: text) }, heldBack: {})
            try channel.pipeline.syncOperations.addHandler(handler)
            return NIOLoopBound(handler, eventLoop: loop)
        }.get()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        return SPDYSessionPool.Session(channel: channel, handler: handler)
    }

    func key(_ pod: String) -> SPDYSessionPool.Key {
        SPDYSessionPool.Key(namespace: "shop", pod: pod, loop: ObjectIdentifier(self.loop))
    }

    /// Asks `pool` for `pod`'s session as `user`, counting the dials.
    func ask(_ pool: SPDYSessionPool, _ pod: String, as user: SPDYSessionPool.User, dials: Dials) async throws -> SPDYSessionPool.Session {
        let made = try await self.session()
        return try await pool.session(for: self.key(pod), user: user, on: self.loop) { () throws(PortForwardError) in
            dials.count.withLock { $0 += 1 }
            return made
        }
    }

    func isOpen(_ session: SPDYSessionPool.Session) async throws -> Bool {
        try await self.loop.submit { session.handler.value.isUsable }.get()
    }

    @Test func twoForwardsToAPodShareOneSessionKeptUntilNeitherWantsIt() async throws {
        let pool = SPDYSessionPools().tunnel
        let dials = Dials()
        let web = pool.join { _ in }
        let api = pool.join { _ in }
        let first = try await self.ask(pool, "web-1", as: web, dials: dials)
        let second = try await self.ask(pool, "web-1", as: api, dials: dials)
        #expect(dials.count.withLock { $0 } == 1 && first.channel === second.channel, "one dial, one session for both")
        #expect(pool.count == 1)

        // The pod leaves one forward's pods: the other still uses the session.
        pool.retain(web, namespace: "shop", pods: ["web-2"])
        await self.loop.run()
        #expect(try await self.isOpen(first) && pool.readySession(for: self.key("web-1")) != nil)

        // Another namespace's pods leave the other's wanted pods alone.
        pool.retain(api, namespace: "other", pods: [])
        await self.loop.run()
        #expect(try await self.isOpen(first))

        // The last forward that wanted it leaves: retired, and closed, as it carries no stream.
        pool.leave(api)
        await self.loop.run()
        #expect(pool.readySession(for: self.key("web-1")) == nil && pool.count == 0)
        #expect(!first.channel.isActive)
    }

    @Test func aSessionNobodyWantsWhenItsDialEndsIsNotKept() async throws {
        let pool = SPDYSessionPools().spdy
        let dials = Dials()
        let gone = pool.join { _ in }
        pool.leave(gone)
        let session = try await self.ask(pool, "web-1", as: gone, dials: dials)
        await self.loop.run()
        #expect(pool.count == 0 && !session.channel.isActive, "handed out, not pooled, closed once idle")

        // A forward still there keeps what it asks for; a recheck after a network change
        // retires it (a new stream dials anew).
        let here = pool.join { _ in }
        let kept = try await self.ask(pool, "web-1", as: here, dials: dials)
        #expect(pool.count == 1 && kept.channel.isActive)
        pool.recheck()
        await self.loop.run()
        #expect(pool.count == 0 && !kept.channel.isActive)
    }

    @Test func aSlowReaderIsToldToEveryForwardOnThePod() async throws {
        let pool = SPDYSessionPools().tunnel
        let told = Mutex<[String]>([])
        let dials = Dials()
        let web = pool.join { pod in told.withLock { $0.append("web:\(pod)") } }
        let api = pool.join { pod in told.withLock { $0.append("api:\(pod)") } }
        let other = pool.join { pod in told.withLock { $0.append("other:\(pod)") } }
        _ = try await self.ask(pool, "web-1", as: web, dials: dials)
        _ = try await self.ask(pool, "web-1", as: api, dials: dials)
        _ = try await self.ask(pool, "db-0", as: other, dials: dials)
        pool.heldBack(SPDYSessionPool.PodRef(namespace: "shop", pod: "web-1"))
        #expect(told.withLock { $0.sorted() } == ["api:web-1", "web:web-1"])
    }
}
