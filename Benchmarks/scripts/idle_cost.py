#!/usr/bin/env python3
"""What idle forwards cost: N forwards in one kfwd daemon, to a 3-pod Service (or, with
--services 2, half of them to a 3-pod Service and half to a 2-pod one), measured over a window at
rest and again with a curl loop through one of them. Reports how long the forwards took to all
run, then per minute the API requests kfwd made (kubesim serve --verbose logs each one), the
daemon's CPU time, its context switches (its wakeups, summed over its threads), its resident
memory, and its TCP connections to the API server (port-forward sessions, watches and requests).

  python3 Benchmarks/scripts/idle_cost.py [--forwards 20] [--services 1] [--seconds 60] [--probe-interval 10] [--build .build/release]

Needs a built kfwd and kubesim (swift build -c release). Traffic stays on loopback.
"""
import argparse, json, os, re, shutil, subprocess, tempfile, time

def service(name, replicas):
    """A kubesim/http-echo Deployment of `replicas` pods behind Service `name`, port 80."""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: {name}, image: kubesim/http-echo, ports: [{{name: http, containerPort: 8080}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: default}}
spec:
  selector: {{app: {name}}}
  ports: [{{name: http, port: 80, targetPort: http}}]
"""


def api_sockets(pid, port):
    """pid's established TCP connections to the API server's port, by local address: the
    segments each sent and received so far (port-forward frames, watch events, requests; an idle
    session's ping and its echo are one segment each way)."""
    out = subprocess.run(["ss", "-Htnpi", "state", "established", "dport", f"= :{port}"], capture_output=True, text=True).stdout
    sockets, local = {}, None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            local = line.split()[2] if f"pid={pid}," in line else None
        elif local:
            sent = int((re.search(r"segs_out:(\d+)", line) or [0, 0])[1])
            received = int((re.search(r"segs_in:(\d+)", line) or [0, 0])[1])
            sockets[local] = (sent, received)
    return sockets


def segments(before, after):
    """Segments sent and received between two readings: a connection opened in between counts
    whole, one closed in between no more (its last segments are not seen)."""
    sent = sum(out - before.get(local, (0, 0))[0] for local, (out, _) in after.items())
    received = sum(inn - before.get(local, (0, 0))[1] for local, (_, inn) in after.items())
    return sent, received


def threads_stat(pid):
    """CPU seconds and context switches of every thread of pid."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu, switches = 0.0, 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            for line in open(f"/proc/{pid}/task/{tid}/status"):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
        except FileNotFoundError:
            pass
    return cpu, switches


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(pid, log_path, seconds, api_port):
    start_requests = sum(1 for line in open(log_path) if "kubesim.method=" in line)
    cpu0, sw0 = threads_stat(pid)
    sockets0 = api_sockets(pid, api_port)
    time.sleep(seconds)
    cpu1, sw1 = threads_stat(pid)
    sockets1 = api_sockets(pid, api_port)
    sent, received = segments(sockets0, sockets1)
    requests = sum(1 for line in open(log_path) if "kubesim.method=" in line) - start_requests
    minutes = seconds / 60
    return {
        "api_requests_per_min": round(requests / minutes, 1),
        "cpu_percent": round(100 * (cpu1 - cpu0) / seconds, 3),
        "wakeups_per_min": round((sw1 - sw0) / minutes),
        "rss_mb": round(rss_mb(pid), 1),
        "api_connections": len(sockets1),
        "api_connections_opened": len(set(sockets1) - set(sockets0)),
        "api_segments_out_per_min": round(sent / minutes),
        "api_segments_in_per_min": round(received / minutes),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--forwards", type=int, default=20)
    parser.add_argument("--services", type=int, choices=[1, 2], default=1, help="2: half the forwards to svc/web (3 pods), half to svc/api (2 pods)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--build", default=".build/release")
    parser.add_argument("--probe-interval", default="10", help="seconds between health probes of each forward's pods; 0: none")
    args = parser.parse_args()
    kfwd, kubesim = os.path.join(args.build, "kfwd"), os.path.join(args.build, "kubesim")
    work = tempfile.mkdtemp(prefix="kfwd-idle-")
    env = dict(os.environ, KFWD_HOME=os.path.join(work, "home"))
    try:
        targets = [("web", 3)] if args.services == 1 else [("web", 3), ("api", 2)]
        open(os.path.join(work, "web.yaml"), "w").write("---\n".join(service(name, count) for name, count in targets))
        sim_log = os.path.join(work, "kubesim.log")
        sim = subprocess.Popen([kubesim, "serve", "--verbose", "--kubeconfig", os.path.join(work, "kc"), "--manifests", os.path.join(work, "web.yaml")],
                               stdout=open(sim_log, "w"), stderr=subprocess.STDOUT)
        while "kubesim ready" not in open(sim_log).read():
            time.sleep(0.1)
        api_port = int(re.search(r"server: https://[^:]+:(\d+)", open(os.path.join(work, "kc")).read()).group(1))
        # The forwards as a project file, handed to the daemon in one go (kfwd start --project).
        pods = {}
        lines = [f"defaults: {{kubeconfig: {os.path.join(work, 'kc')}}}", "forwards:"]
        for index in range(args.forwards):
            name, count = targets[index % len(targets)]
            pods[f"{name}{index}"] = count
            lines.append(f"- {{alias: {name}{index}, target: svc/{name}, ports: [':80'], probe_interval_seconds: {args.probe_interval}}}")
        project = os.path.join(work, "project")
        os.makedirs(os.path.join(project, ".git"))
        open(os.path.join(project, "kfwd.yaml"), "w").write("\n".join(lines) + "\n")
        daemon = subprocess.Popen([kfwd, "daemon"], env=env, stdout=open(os.path.join(work, "daemon.log"), "w"), stderr=subprocess.STDOUT)
        while "kfwd daemon ready" not in open(os.path.join(work, "daemon.log")).read():
            time.sleep(0.1)
        started = time.monotonic()
        subprocess.run([kfwd, "start", "--project"], env=env, cwd=project, check=True, capture_output=True)
        while True:
            report = json.loads(subprocess.run([kfwd, "status", "-o", "json"], env=env, capture_output=True, text=True).stdout)
            if len(report["forwards"]) == args.forwards and all(f["status"] == "running" and len(f["pods"]) == pods[f["alias"]] for f in report["forwards"]):
                break
            time.sleep(0.5)
        all_running = time.monotonic() - started
        time.sleep(5)
        idle = measure(daemon.pid, sim_log, args.seconds, api_port)
        port = int(report["forwards"][0]["listening"][0].rsplit(":", 1)[1])
        loop = subprocess.Popen(["bash", "-c", f"while true; do curl -s -o /dev/null http://127.0.0.1:{port}/; sleep 0.1; done"])
        busy = measure(daemon.pid, sim_log, args.seconds, api_port)
        loop.kill()
        print(json.dumps({"forwards": args.forwards, "pods": sum(count for _, count in targets), "probe_interval": args.probe_interval,
                          "seconds": args.seconds, "all_running_seconds": round(all_running, 1), "idle": idle, "curl_loop_on_one": busy}, indent=2))
        daemon.terminate(); daemon.wait(10)
        sim.terminate(); sim.wait(10)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
