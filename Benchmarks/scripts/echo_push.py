"""Pushes MIB mebibytes through PORT to an echo server and reads them back, at once on one
connection: load for a profiler, not a measure (Python is slower than kfwd).

Usage: python3 echo_push.py PORT MIB
"""
import socket, sys, threading, time


def push(port, mib):
    """Sends MIB mebibytes through PORT while reading the echo; the bytes that came back."""
    total = mib << 20
    s = socket.create_connection(("127.0.0.1", port))
    chunk = b"x" * (256 << 10)

    def send():
        sent = 0
        while sent < total:
            s.sendall(chunk)
            sent += len(chunk)
        s.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    received = 0
    while True:
        data = s.recv(1 << 20)
        if not data:
            break
        received += len(data)
    sender.join()
    s.close()
    return received


if __name__ == "__main__":
    start = time.time()
    received = push(int(sys.argv[1]), int(sys.argv[2]))
    print("%d bytes back, %.0f MiB/s" % (received, received / (time.time() - start) / 2**20))
