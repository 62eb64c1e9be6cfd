import Foundation
import KubeSim

/// The kfwd-relay executable built next to kfwd.
let kfwdRelayPath: String = URL(fileURLWithPath: kfwdPath).deletingLastPathComponent().appendingPathComponent("kfwd-relay").path

/// The relay image the tests deploy, run by KubeSim as the built kfwd-relay (on the address and
/// port KubeSim gives the container, with the environment of its pod spec).
let testRelayImage = "kfwd/relay:test"

extension KubeSim.Configuration {
    mutating func mapRelayImage() {
        self.images["kfwd/relay"] = "\(kfwdRelayPath) --listen {host}:{port}"
    }
}

extension KubeSim {
    /// kfwd's relay pods in `default`, by their labels.
    func relayPods() -> [JSON] {
        (try? self.objects("pods", labelSelector: "app.kubernetes.io/managed-by=kfwd,app.kubernetes.io/component=relay")) ?? []
    }
}

/// A UDP client in Python (a real socket client, as a user's tool would be), run to completion.
/// Each peer tags its datagrams; the script prints one JSON object with what every peer got.
let udpPeersScript = """
    import json, socket, sys, time
    port, peers, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    socks = []
    for p in range(peers):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
        socks.append(s)
    got = [set() for _ in range(peers)]
    foreign = [0] * peers
    sizes_ok = [True] * peers
    def payload(p, i):
        head = ("%d:%d:" % (p, i)).encode()
        return head + b"x" * max(0, size - len(head))
    def drain(timeout):
        end = time.time() + timeout
        while time.time() < end:
            idle = True
            for p, s in enumerate(socks):
                try:
                    data, _ = s.recvfrom(70000)
                except BlockingIOError:
                    continue
                idle = False
                owner, seq = data.split(b":")[:2]
                if int(owner) != p:
                    foreign[p] += 1
                else:
                    got[p].add(int(seq))
                    if len(data) != len(payload(p, int(seq))):
                        sizes_ok[p] = False
            if idle:
                time.sleep(0.002)
            if all(len(g) == count for g in got):
                return
    # Interleaved: datagram i of every peer, then i + 1, in windows of up to 50 per peer (fewer
    # for large datagrams, so that a window fits the kernel's socket buffers); what is missing
    # after a quiet period is sent again, as a DNS client retries.
    window = max(1, min(50, (128 << 10) // size))
    for attempt in range(4):
        pending = [[i for i in range(count) if i not in got[p]] for p in range(peers)]
        for start in range(0, max(len(x) for x in pending) if pending else 0, window):
            for i in range(start, start + window):
                for p in range(peers):
                    if i < len(pending[p]):
                        socks[p].sendto(payload(p, pending[p][i]), ("127.0.0.1", port))
            drain(0.05)
        drain(1.0)
        if all(len(g) == count for g in got):
            break
    print(json.dumps({"received": [len(g) for g in got], "foreign": foreign, "sizes_ok": sizes_ok}))
    """
