"""The official Kubernetes Python client, judging KubeSim: list pods, then watch them through churn.

Usage: python_client_check.py KUBECONFIG NAMESPACE
Prints one line per step; exits non-zero on the first thing a real cluster would not do.
"""
import sys

from kubernetes import client, config, watch

kubeconfig, namespace = sys.argv[1], sys.argv[2]
config.load_kube_config(config_file=kubeconfig)
v1 = client.CoreV1Api()

pods = v1.list_namespaced_pod(namespace, label_selector="app=web")
names = sorted(p.metadata.name for p in pods.items)
assert len(names) == 2, names
assert all(p.status.phase == "Running" for p in pods.items), [p.status.phase for p in pods.items]
print("list", pods.metadata.resource_version, " ".join(names), flush=True)

victim = names[0]
seen = []
stream = watch.Watch()
for event in stream.stream(v1.list_namespaced_pod, namespace, label_selector="app=web",
                           resource_version=pods.metadata.resource_version, timeout_seconds=20):
    pod = event["object"]
    seen.append((event["type"], pod.metadata.name))
    if len(seen) == 1:
        pass
    if event["type"] == "DELETED" and pod.metadata.name == victim:
        print("deleted", victim, flush=True)
    if event["type"] in ("ADDED", "MODIFIED") and pod.metadata.name not in names \
            and any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or [])):
        print("replacement-ready", pod.metadata.name, flush=True)
        stream.stop()
if not any(t == "DELETED" and n == victim for t, n in seen):
    sys.exit("no DELETED event for %s: %r" % (victim, seen))
print("ok", flush=True)
