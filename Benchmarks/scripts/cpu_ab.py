"""CPU per new connection, and connect-to-first-echo latency, of two forwarders A and B taking
turns connection by connection (or burst by burst), read from /proc/PID/stat around each one.

Usage: python3 cpu_ab.py PID_A PORT_A PID_B PORT_B N [seq|burst]
  seq:   N connections to each, one at a time, each sending 64 bytes and reading the echo
  burst: N bursts of 100 connections at once to each

The second forwarder started often measures worse whichever binary it is: run both orders.
"""
import os, sys, threading

from connect_ab import once


def cpu(pid):
    """User + system CPU seconds of process PID so far."""
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def burst(port, out):
    """100 new connections to PORT at once; their times (µs) are appended to OUT."""
    threads = [threading.Thread(target=lambda: out.append(once(port))) for _ in range(100)]
    [t.start() for t in threads]
    [t.join() for t in threads]


if __name__ == "__main__":
    pid_a, port_a, pid_b, port_b, n = (int(x) for x in sys.argv[1:6])
    mode = sys.argv[6] if len(sys.argv) > 6 else "seq"
    latency = {port_a: [], port_b: []}
    used = {port_a: 0.0, port_b: 0.0}
    for i in range(n):
        pair = ((pid_a, port_a), (pid_b, port_b))
        for pid, port in pair if i % 2 == 0 else pair[::-1]:
            before = cpu(pid)
            if mode == "seq":
                latency[port].append(once(port))
            else:
                burst(port, latency[port])
            used[port] += cpu(pid) - before
    connections = n * (1 if mode == "seq" else 100)
    for name, port in (("A", port_a), ("B", port_b)):
        values = sorted(latency[port])
        print("%s cpu per connection %.0f us, p50 %.0f us, p90 %.0f us"
              % (name, used[port] / connections * 1e6, values[len(values) // 2], values[int(len(values) * 0.9)]))
