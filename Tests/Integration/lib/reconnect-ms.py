"""Times how long until a TCP connection to HOST:PORT succeeds.

    reconnect-ms.py START_MS HOST PORT TIMEOUT_SECONDS INTERVAL_SECONDS

A new nonblocking connect starts every INTERVAL_SECONDS, so a SYN lost on an
old path does not hold the measurement back. Prints the milliseconds from
START_MS (Unix epoch, ms) to the first connection that succeeds; exits 1 if
none does within TIMEOUT_SECONDS. Run it inside the client's namespace.
"""
import select
import socket
import sys
import time

start_ms, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
timeout, interval = float(sys.argv[4]), float(sys.argv[5])
pending, next_try, deadline = [], 0.0, time.time() + timeout
while time.time() < deadline:
    if time.time() >= next_try:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((host, port))
        pending.append(s)
        next_try = time.time() + interval
    _, ready, _ = select.select([], pending, [], 0.01)
    for s in ready:
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            print(time.time_ns() // 1000000 - start_ms)
            sys.exit(0)
        pending.remove(s)
        s.close()
sys.exit(1)
