"""Splits kfwd's new-connection time into its steps, from a `perf trace` of one kfwd process.

Usage (see docs/benchmarks.md, "Where a new connection's time goes"):
    perf trace -p PID -e accept4,write,read,epoll_ctl -o trace.txt   # while connections are made
    python3 connect_timeline.py trace.txt LISTEN_FD SESSION_FD

For each accepted connection: when the task printed "Handling connection" (stdout), when the
SYN_STREAMs went out on the session, when the pod's echo came back on it, and when that echo was
written to the local connection; p50 and p90 over all connections, in microseconds after accept4.
"""
import re
import sys

path, listen_fd, session_fd = sys.argv[1], sys.argv[2], sys.argv[3]
events = []
for line in open(path).read().splitlines():
    match = re.match(r"\s*([\d.]+) \(.*?\): (\S+)/(\d+) (.*)", line)
    if match:
        events.append((float(match.group(1)), match.group(4)))
events.sort(key=lambda event: event[0])
accepts = [i for i, (_, call) in enumerate(events) if call.startswith(f"accept4(fd: {listen_fd}") and "= -1" not in call]
rows = []
for k, i in enumerate(accepts):
    end = accepts[k + 1] if k + 1 < len(accepts) else len(events)

    def first(predicate, start=i):
        return next((j for j in range(start, end) if predicate(events[j][1])), None)

    printed = first(lambda call: call.startswith("write(fd: 1,"))
    # The error stream's SYN_STREAM, its FIN and the data stream's SYN_STREAM, in one write.
    syn = first(lambda call: call.startswith(f"write(fd: {session_fd},") and re.search(r"count: 1[23]\d\)", call))
    if syn is None:
        continue
    echoed = first(lambda call: call.startswith(f"read(fd: {session_fd},") and call.rstrip().endswith("= 94"), syn)
    delivered = first(lambda call: call.startswith("write(") and "count: 64)" in call and not call.startswith(f"write(fd: {session_fd},"), syn)
    if echoed is None or delivered is None:
        continue
    t0 = events[i][0]
    rows.append([(events[j][0] - t0) * 1000 if j is not None else None for j in (printed, syn, echoed, delivered)])


def quantile(column, q):
    values = sorted(row[column] for row in rows if row[column] is not None)
    return round(values[int(len(values) * q)]) if values else None


print(f"{len(rows)} connections, µs after accept4, p50 / p90:")
for column, name in enumerate(["task printed 'Handling connection'", "SYN_STREAMs written", "echo read from the session", "echo written locally"]):
    print(f"  {name}: {quantile(column, 0.5)} / {quantile(column, 0.9)}")
