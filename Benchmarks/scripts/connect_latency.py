"""New connection + first 64-byte echo through PORT, N times one after another: p50 and p90 in µs.

Usage: python3 connect_latency.py PORT N
"""
import socket, time, sys
port=int(sys.argv[1]); n=int(sys.argv[2])
ts=[]
for i in range(n):
    t=time.perf_counter()
    s=socket.create_connection(("127.0.0.1",port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,1)
    s.sendall(b"x"*64); got=b""
    while len(got)<64: got+=s.recv(64)
    ts.append((time.perf_counter()-t)*1e6); s.close()
ts.sort(); print("p50 %.0f p90 %.0f"%(ts[len(ts)//2], ts[int(len(ts)*.9)]))
