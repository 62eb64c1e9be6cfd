import KubeClient

/// How a forward follows its kubeconfig: the context it moves to when the file changes (only one
/// kfwd can use), the namespace there, and for `pod/NAME` the watch of that one pod.
extension ResilientForward {
    /// Ends (with the error to report) when the forwarded pod is deleted in the context in use;
    /// moves the forward's route when the followed kubeconfig changes context.
    func watchPod(_ name: String, forward: PodForward, follower: ContextFollower?, events: @escaping @Sendable (ForwardEvent) -> Void) async -> ForwardError? {
        var context = self.context
        var namespace = self.namespace
        var followed = false
        while !Task.isCancelled {
            let (watched, watchedContext, switched) = (namespace, context, followed)
            let mode = await FollowPlan.podMode(name, namespace: namespace, context: context, cache: self.cache)
            let outcome: PodWatch? = try? await self.cache.withInformer(Pod.self, context: context, namespace: namespace, mode: mode) { pods in
                await withTaskGroup(of: PodWatch.self) { tasks in
                    tasks.addTask {
                        await pods.waitForSync()
                        // On the first context, gone only after it was seen: a pod that never
                        // existed is the forward's own startup error to report. After a switch,
                        // new connections already go to the pod there, which may be deleted
                        // before this watch has listed it.
                        var seen = false
                        return await StoreChanges.rerun(on: [pods]) { () -> PodWatch? in
                            if pods.object(namespace: watched, name: name) != nil {
                                seen = true
                            } else if seen || switched {
                                let gone = seen ? "was deleted" : "was deleted (or is not in context '\(watchedContext.name)')"
                                return .deleted(ForwardError("pod \(name) in namespace \(watched) \(gone); pod/NAME forwards to that one pod, as kubectl does (forward svc/ or deploy/ to follow the pods)"))
                            }
                            return nil
                        } ?? .cancelled
                    }
                    if let follower {
                        tasks.addTask {
                            guard let next = await self.nextUsableContext(after: watchedContext, follower: follower, events: events) else { return .cancelled }
                            return .contextChanged(next)
                        }
                    }
                    let first = await tasks.next() ?? .cancelled
                    tasks.cancelAll()
                    return first
                }
            }
            switch outcome {
            case .deleted(let error):
                return error
            case .contextChanged(let next):
                // The kubeconfig moved: the same pod name in the new context.
                guard let client = try? self.cache.client(for: next) else { continue }
                context = next
                namespace = self.namespace(in: context)
                followed = true
                forward.route.set(transport: self.transport.transport(client: client, events: events), namespace: namespace)
                events(Self.followed(context, namespace: namespace))
            case .cancelled, nil:
                return nil
            }
        }
        return nil
    }

    /// The next context the followed kubeconfig names that kfwd can make a client for (nil when
    /// cancelled). One it cannot use is reported and waited past: the forward keeps `context`.
    func nextUsableContext(
        after context: KubeContext, follower: ContextFollower, events: @Sendable (ForwardEvent) -> Void
    ) async -> KubeContext? {
        var seen = context
        while !Task.isCancelled {
            await follower.waitForChange(from: seen)
            seen = follower.current
            guard seen != context else { continue }
            do {
                _ = try self.cache.client(for: seen)
                return seen
            } catch {
                events(.kubeconfig(changed: false, "the kubeconfig changed but context '\(seen.name)' cannot be used (\(error.message)); keeping context '\(context.name)'"))
            }
        }
        return nil
    }

    /// The namespace a followed context puts the forward in: the one the user named, else the
    /// context's own.
    func namespace(in context: KubeContext) -> String {
        self.kubeconfigSource.map { $0.namespace ?? context.namespace } ?? self.namespace
    }

    static func followed(_ context: KubeContext, namespace: String) -> ForwardEvent {
        .kubeconfig(changed: true, "the kubeconfig changed: new connections use context '\(context.name)' (\(context.server), namespace \(namespace))")
    }

    private enum PodWatch: Sendable {
        case deleted(ForwardError)
        case contextChanged(KubeContext)
        case cancelled
    }
}
