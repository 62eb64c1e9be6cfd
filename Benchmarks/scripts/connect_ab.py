"""New connection + first 64-byte echo, alternating between two forwards connection by
connection (so that the machine's drift hits both alike): p50 and p90 of each in µs.

Usage: python3 connect_ab.py PORT_A PORT_B N
"""
import socket, sys, time

def once(port):
    """One new connection to PORT and its first 64-byte echo, in µs."""
    start = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(b"x" * 64)
    got = b""
    while len(got) < 64:
        chunk = s.recv(64)
        if not chunk:
            raise SystemExit("port %d closed a connection before its echo" % port)
        got += chunk
    elapsed = (time.perf_counter() - start) * 1e6
    s.close()
    return elapsed

if __name__ == "__main__":
    a_port, b_port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    times = {a_port: [], b_port: []}
    for i in range(n):
        order = (a_port, b_port) if i % 2 == 0 else (b_port, a_port)
        for port in order:
            times[port].append(once(port))
    for name, port in (("A", a_port), ("B", b_port)):
        ts = sorted(times[port])
        print("%s p50 %.0f p90 %.0f" % (name, ts[len(ts) // 2], ts[int(len(ts) * 0.9)]))
