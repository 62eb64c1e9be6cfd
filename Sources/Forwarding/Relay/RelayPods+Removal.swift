import KubeClient

/// How relay pods go: this process's when they are done with, those a dead kfwd left behind,
/// and those whose own credentials can no longer delete them (rotated or revoked under a forward
/// that follows its kubeconfig), which the next lease in their cluster and namespace deletes
/// with its own.
extension RelayPods {
    /// Where relays left for newer credentials wait: a cluster's namespace.
    struct Orphanage: Hashable {
        let server: String
        let namespace: String
    }

    /// Deletes `relay`'s pod, after its creation has ended (one never made leaves nothing).
    func delete(_ relay: Relay, key: Key) async {
        relay.presence?.close(promise: nil)
        // Never made (refused, or the cluster unreachable): nothing to delete.
        guard case .success? = await relay.created?.result else { return }
        await self.removePod(relay.name, policy: relay.policy, key: key)
    }

    /// Deletes relays whose own credentials could no longer delete them, with `key`'s.
    func adopt(_ orphans: [(name: String, policy: Bool)], key: Key) async {
        for orphan in orphans { await self.removePod(orphan.name, policy: orphan.policy, key: key) }
    }

    /// Deletes a relay pod (and its NetworkPolicy, when kfwd made one) with `key`'s client; one
    /// these credentials may no longer delete is left to the next lease in its namespace.
    private func removePod(_ name: String, policy: Bool, key: Key) async {
        guard let client = try? self.cache.client(for: key.context) else { return }
        // The cluster's garbage collector deletes the policy with its pod; kfwd deletes it too,
        // for a cluster that runs none (KubeSim).
        if policy {
            try? await client.delete(NetworkPolicy.self, name, namespace: key.namespace)
        }
        do {
            try await client.delete(Pod.self, name, namespace: key.namespace)
        } catch where error.isNotFound {
        } catch where error.isUnauthorized {
            self.logger.info("relay pod left for newer credentials to delete", metadata: ["kfwd.pod": "\(key.namespace)/\(name)", "error": "\(error.message)"])
            self.orphans[Orphanage(server: key.context.server, namespace: key.namespace), default: []].append((name, policy))
        } catch {
            self.logger.warning("cannot delete relay pod", metadata: ["kfwd.pod": "\(key.namespace)/\(name)", "error": "\(error.message)"])
        }
    }

    /// Deletes, in `namespace` of `context`, the relays a kfwd on this machine left behind when
    /// it died (the daemon does so at start for the namespaces its saved forwards use).
    public func removeStale(context: KubeContext, namespace: String) async {
        let key = Key(context: context, namespace: namespace)
        if let place = self.places[key] { place.swept = true }
        await self.sweepStale(key)
    }

    /// Deletes the relays of this user on this machine whose kfwd no longer runs.
    func sweepStale(_ key: Key) async {
        guard let client = try? self.cache.client(for: key.context),
            let pods = try? await client.list(
                Pod.self, namespace: key.namespace,
                labelSelector: RelayPodSpec.selector(self.owner) + ",\(RelayPodSpec.hostLabel)=\(self.owner.host)"
            )
        else { return }
        for pod in pods.items {
            guard let name = pod.metadata.name, let pid = pod.metadata.annotations?[RelayPodSpec.pidAnnotation].flatMap(Int32.init) else { continue }
            // Our own pid on a relay we did not make: a kfwd before us had it.
            let alive = pid != self.owner.pid && ProcessLiveness.isAlive(pid)
            guard !alive, !self.made.contains(name) else { continue }
            let message = "removing relay \(name) left in namespace \(key.namespace) by kfwd pid \(pid), which no longer runs"
            self.logger.info("\(message)")
            self.announce(key, message)
            try? await client.delete(Pod.self, name, namespace: key.namespace, gracePeriodSeconds: 0)
        }
    }
}
