import KubeClient
import Synchronization
import Testing

/// Values the engine shares among forwards through the cache (a prober per pod set): made by
/// the first user, run while any uses them, stopped with the last.
@Suite struct SharedValueTests {
    final class Runner: Sendable {
        let events = Mutex<[String]>([])
        let (stopped, stop) = AsyncStream<Void>.makeStream()

        func run() async {
            self.events.withLock { $0.append("run") }
            // Until cancelled, as a prober's loop.
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(60)) }
            self.events.withLock { $0.append("stopped") }
            self.stop.finish()
        }
    }

    @Test(.timeLimit(.minutes(1))) func aSharedValueIsMadeOnceRunWhileUsedAndStoppedWithItsLastUser() async throws {
        let cache = KubeClientCache()
        let made = Mutex(0)
        let make: @Sendable () -> Runner = {
            made.withLock { $0 += 1 }
            return Runner()
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await cache.run() }
            let runner = await cache.withShared("probe web:80", make: make, run: { await $0.run() }) { first in
                await cache.withShared("probe web:80", make: make, run: { await $0.run() }) { second in
                    #expect(first === second, "one value for one key")
                }
                let other = await cache.withShared("probe db:5432", make: make, run: { await $0.run() }) { $0 }
                #expect(other !== first)
                return first
            }
            // The last user left: its run is cancelled.
            for await _ in runner.stopped {}
            #expect(runner.events.withLock { $0 } == ["run", "stopped"])
            #expect(made.withLock { $0 } == 2)
            group.cancelAll()
        }
    }
}
