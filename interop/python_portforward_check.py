"""The official Python client forwards to a pod through KubeSim (kubernetes.stream.portforward,
the WebSocket v4.channel.k8s.io protocol) and prints what the pod answered.

usage: python_portforward_check.py KUBECONFIG NAMESPACE POD PORT [MISSING_PORT]
Prints `status <http status line>`, `body <first body line>`, and with MISSING_PORT,
`error <text>` from the port's error channel; exits non-zero on any failure.
"""
import sys

from kubernetes import client, config
from kubernetes.stream import portforward


def main():
    kubeconfig, namespace, pod, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    config.load_kube_config(config_file=kubeconfig)
    api = client.CoreV1Api()
    forward = portforward(api.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    sock = forward.socket(port)
    sock.setblocking(True)
    sock.sendall(b"GET /hello HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.split(b"\r\n\r\n", 1)[1]:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    print("status", head.split(b"\r\n")[0].decode(), flush=True)
    print("body", body.decode().splitlines()[0] if body else "", flush=True)
    sock.close()
    forward.close()
    if len(sys.argv) > 5:
        missing = int(sys.argv[5])
        forward = portforward(api.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(missing))
        sock = forward.socket(missing)
        sock.setblocking(True)
        sock.recv(1)  # ends when the server gives up on the port
        print("error", forward.error(missing), flush=True)
        forward.close()
    print("ok", flush=True)


if __name__ == "__main__":
    main()
