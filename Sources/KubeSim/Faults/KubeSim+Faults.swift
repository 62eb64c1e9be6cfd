extension KubeSim {
    /// Plays `fault` and returns once it has begun; one that lasts (a blackhole, the downtime
    /// of a restart) ends by itself after its seconds, in KubeSim's own tasks.
    public func inject(_ fault: KubeSimFault) async throws {
        switch fault.kind {
        case .silence:
            self.silenceConnections()
        case .blackhole:
            self.listener.blackhole()
            self.spawner.after(.seconds(fault.seconds ?? 0)) { [listener = self.listener] in listener.endBlackhole() }
        case .restartAPI:
            await self.stopAPI()
            let downtime = Duration.seconds(fault.seconds ?? 0)
            if downtime == .zero {
                try await self.startAPI()
            } else {
                self.spawner.after(downtime) { [self] in
                    do { try await self.startAPI() } catch { self.logger.error("the API server could not listen again: \(error)") }
                }
            }
        case .dropWatches:
            self.dropWatches()
        case .expireWatches:
            self.api.store.compactHistory()
            self.dropWatches()
        }
    }
}
