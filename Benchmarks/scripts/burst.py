"""ROUNDS bursts of N new connections at once through PORT (a thread each), each timed from its
connect to its first 64-byte echo: the p50 in µs.

Usage: python3 burst.py PORT N ROUNDS
"""
import socket, sys, threading, time
port=int(sys.argv[1]); n=int(sys.argv[2]); rounds=int(sys.argv[3])
def one(out):
    t=time.perf_counter()
    s=socket.create_connection(("127.0.0.1",port)); s.sendall(b"x"*64); got=b""
    while len(got)<64: got+=s.recv(64)
    out.append((time.perf_counter()-t)*1e6); s.close()
all_=[]
for r in range(rounds):
    out=[]; ts=[threading.Thread(target=one,args=(out,)) for _ in range(n)]
    [t.start() for t in ts]; [t.join() for t in ts]; all_+=out
all_.sort(); print("p50 %.0f"%all_[len(all_)//2])
