"""Opens a port-forward WebSocket with the `v4.base64.channel.k8s.io` subprotocol using
websocket-client (installed with the kubernetes package) and prints the negotiated protocol,
the two port-prefix messages as text, then the pod's answer to an HTTP request.

usage: websocket_base64_check.py SERVER_URL TOKEN CA_FILE NAMESPACE POD PORT
"""
import base64
import ssl
import sys

import websocket


def main():
    server, token, ca, namespace, pod, port = sys.argv[1:7]
    url = server.replace("https://", "wss://") + f"/api/v1/namespaces/{namespace}/pods/{pod}/portforward?ports={port}"
    ws = websocket.create_connection(
        url,
        header=[f"Authorization: Bearer {token}"],
        subprotocols=["v4.base64.channel.k8s.io"],
        sslopt={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": ca},
    )
    print("protocol", ws.getsubprotocol(), flush=True)
    print(ws.recv(), flush=True)
    print(ws.recv(), flush=True)
    request = b"GET / HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n"
    ws.send("0" + base64.b64encode(request).decode())
    answer = b""
    while b"pod: " not in answer:
        message = ws.recv()
        if not message:
            break
        if message[0] == "0":
            answer += base64.b64decode(message[1:])
    print(answer.decode(errors="replace"), flush=True)
    ws.close()


if __name__ == "__main__":
    main()
