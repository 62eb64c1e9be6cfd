"""Where the CPU of bursts of 100 new connections goes, per connection, for two forwarders to
the same KubeSim taking turns burst by burst: KubeSim's, the forwarder's and the client's (this
process) CPU, from /proc and os.times(), with the wall time per burst and the p50 latency.

Usage: python3 burst_cpu_split.py KUBESIM_PID PID_A PORT_A PID_B PORT_B BURSTS
"""
import os
import sys
import time

from cpu_ab import burst, cpu

sim, pid_a, port_a, pid_b, port_b, bursts = (int(x) for x in sys.argv[1:7])


def own():
    times = os.times()
    return times.user + times.system


totals = {port_a: [0.0, 0.0, 0.0, 0.0, []], port_b: [0.0, 0.0, 0.0, 0.0, []]}
pair = ((pid_a, port_a), (pid_b, port_b))
for i in range(bursts):
    for pid, port in pair if i % 2 == 0 else pair[::-1]:
        before = (cpu(sim), cpu(pid), own(), time.perf_counter())
        burst(port, totals[port][4])
        after = (cpu(sim), cpu(pid), own(), time.perf_counter())
        for k in range(4):
            totals[port][k] += after[k] - before[k]
connections = bursts * 100
for name, port in (("A", port_a), ("B", port_b)):
    kubesim, forwarder, client, wall, latencies = totals[port]
    latencies.sort()
    print("%s: CPU per connection (µs): KubeSim %.0f, forwarder %.0f, client %.0f; wall per burst %.1f ms; p50 %.1f ms" % (
        name, kubesim / connections * 1e6, forwarder / connections * 1e6, client / connections * 1e6,
        wall / bursts * 1e3, latencies[len(latencies) // 2] / 1e3))
