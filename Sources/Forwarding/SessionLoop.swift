import NIOCore

/// The event loop a forward's connections and its sessions to its pods live on. A SPDY session
/// lives on one loop and serves connections on that loop (bytes never hop threads), so forwards
/// to the same pods are put on the same loop: then they share one session per pod (500 forwards
/// to one Service: one session per pod, not one per pod per loop). Forwards to other pods spread
/// over the group by a hash of what they reach.
enum SessionLoop {
    /// The loop for forwards reaching `pods` (the namespace and target, or a namespace's relay).
    static func loop(for pods: String, in group: any EventLoopGroup) -> any EventLoop {
        let loops = Array(group.makeIterator())
        guard loops.count > 1 else { return loops.first ?? group.next() }
        return loops[Int(FNV1a.hash(pods) % UInt64(loops.count))]
    }
}
