"""Instructions (valgrind callgrind's Ir) a forwarder executes per new connection and per MiB,
for several forwarders against the same cluster: counts that repeat from run to run, where the
timings of this machine drift by 30%.

Usage: python3 callgrind_count.py KUBECONFIG TARGET REMOTE_PORT FORWARDER...
  FORWARDER: kfwd=PATH:TRANSPORT (a kfwd binary, tunnel | spdy | websocket),
             kubectl=tunnel | kubectl=spdy (kubectl 1.32 port-forward in that mode)
  env: CG_CONNECTIONS=200 (new connections, one after another, each echoing 64 bytes),
       CG_MIB=32 (pushed through one connection and echoed back), CG_TOP=12 (functions listed),
       CG_KEEP=DIR (keep the callgrind files there, for callgrind_annotate or a deeper look)

Each forwarder runs under `valgrind --tool=callgrind` to TARGET's REMOTE_PORT (a tcp-echo pod, as
`kubesim serve --manifests` makes). After 20 connections and 4 MiB to warm up, the counters are
zeroed, the connections are made and the counts dumped, then the volume is pushed and the counts
dumped again. Only what the forwarder runs in user space is counted: its system calls and the
kernel's copies are not (perf and /proc/PID/stat see those; docs/benchmarks.md).
"""
import collections, os, re, shutil, socket, subprocess, sys, tempfile, threading

from connect_ab import once
from echo_push import push

HERE = os.path.dirname(os.path.abspath(__file__))
WARM_CONNECTIONS, WARM_MIB = 20, 4


def echo(port, mib):
    received = push(port, mib)
    if received != mib << 20:
        raise SystemExit("port %d echoed %d of %d bytes" % (port, received, mib << 20))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(spec, kubeconfig, target, port, remote, work):
    """The command line and environment of one forwarder under callgrind."""
    env = dict(os.environ)
    kind, _, arg = spec.partition("=")
    if kind == "kfwd":
        path, _, transport = arg.rpartition(":")
        # valgrind 3.19 cannot read the DWARF 5 that Swift writes: a copy without it keeps the symbols.
        stripped = os.path.join(work, "kfwd-%d" % port)
        subprocess.run(["objcopy", "--strip-debug", path, stripped], check=True)
        shim = os.path.join(work, "sigsuspend_copy.so")
        if not os.path.exists(shim):
            source = os.path.join(HERE, "..", "valgrind", "sigsuspend_copy.c")
            subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim, source], check=True)
        env["LD_PRELOAD"] = shim
        # valgrind counts every byte of a `rep movsb` as an instruction, and glibc copies large
        # blocks that way, where Go (kubectl) copies 32 bytes per instruction: glibc's vector
        # loop instead makes the two counts comparable.
        env["GLIBC_TUNABLES"] = "glibc.cpu.x86_rep_movsb_threshold=1073741824"
        program = [stripped, "forward", target, "%d:%d" % (port, remote), "--transport", transport, "--kubeconfig", kubeconfig]
    elif kind == "kubectl":
        # callgrind stops on an assertion at Go's preemption signals; without them Go runs as well.
        env["GODEBUG"] = "asyncpreemptoff=1"
        # valgrind runs one thread at a time, so Go's idle processors spin-wait for work that
        # cannot arrive meanwhile, millions of instructions at random: one processor counts
        # only the work.
        env["GOMAXPROCS"] = "1"
        if arg == "spdy":
            env["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = "false"
        program = [shutil.which("kubectl"), "--kubeconfig", kubeconfig, "port-forward", target, "%d:%d" % (port, remote)]
    else:
        raise SystemExit("unknown forwarder %r: kfwd=PATH:TRANSPORT or kubectl=tunnel|spdy" % spec)
    out = os.path.join(work, "cg.%d" % port)
    return ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + program, env, out


def self_costs(path):
    """Total Ir and the self cost of each function in one callgrind dump."""
    names, costs = {}, collections.Counter()
    fn, after_call = "?", False
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
            if m:
                kind, ident, name = m.groups()
                if name is not None:
                    names[ident] = name
                if kind == "fn":
                    fn = names.get(ident, ident)
                continue
            if line.startswith("calls="):
                after_call = True  # the next cost line is the call's inclusive cost
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) >= 2:
                    if not after_call:
                        costs[fn] += int(parts[1])
                    after_call = False
    return sum(costs.values()), costs


def dump(pid, out):
    before = set(os.listdir(os.path.dirname(out)))
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    new = [f for f in os.listdir(os.path.dirname(out)) if f not in before and f.startswith(os.path.basename(out))]
    if len(new) != 1:
        raise SystemExit("callgrind wrote %r for one dump" % new)
    return self_costs(os.path.join(os.path.dirname(out), new[0]))


def measure(spec, kubeconfig, target, remote, connections, mib, work):
    port = free_port()
    argv, env, out = command(spec, kubeconfig, target, port, remote, work)
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in process.stdout:
            if line.startswith("Forwarding from"):
                break
        else:
            raise SystemExit("%s exited before forwarding" % spec)
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
        for _ in range(WARM_CONNECTIONS):
            once(port)
        echo(port, WARM_MIB)
        subprocess.run(["callgrind_control", "-z", str(process.pid)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(connections):
            once(port)
        per_connection = dump(process.pid, out)
        echo(port, mib)
        per_mib = dump(process.pid, out)
        return per_connection, per_mib
    finally:
        process.terminate()
        process.wait()


def main():
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    kubeconfig, target, remote = sys.argv[1], sys.argv[2], int(sys.argv[3])
    connections = int(os.environ.get("CG_CONNECTIONS", "200"))
    mib = int(os.environ.get("CG_MIB", "32"))
    top = int(os.environ.get("CG_TOP", "12"))
    keep = os.environ.get("CG_KEEP")
    work = keep or tempfile.mkdtemp(prefix="callgrind-")
    os.makedirs(work, exist_ok=True)
    results = []
    for spec in sys.argv[4:]:
        (conn_total, conn_costs), (mib_total, _) = measure(spec, kubeconfig, target, remote, connections, mib, work)
        results.append((spec, conn_total / connections, mib_total / mib, conn_costs))
    print("| forwarder | Ir per new connection | Ir per MiB echoed (each way) |")
    print("|---|---|---|")
    for spec, per_connection, per_mib, _ in results:
        print("| %s | %.0f | %.0f |" % (spec, per_connection, per_mib))
    for spec, per_connection, _, costs in results:
        print("\n%s, per new connection, the functions that execute the most (self):" % spec)
        for name, cost in costs.most_common(top):
            print("%9.0f  %5.1f%%  %s" % (cost / connections, 100.0 * cost / (per_connection * connections), name[:150]))
    if not keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
