#!/usr/bin/env python3
"""Clients that attack tern-control before they log in, for control-attack.sh.

Each scenario connects to 127.0.0.1:PORT from addresses in 127.0.0.0/8 of
its own choosing (so per-source limits can be exercised and sidestepped) and
prints one line saying what the server did. Loopback only.

  oversized PORT N        N connections each announce an 8 MiB first frame
                          after the upgrade, then send 256 KiB of it; prints
                          how many the server closed within 10 s
  keepalive PORT SECONDS  GET /health on one keep-alive connection every
                          SECONDS; prints when the server closed it
  trickle PORT SECONDS    after the upgrade, one byte of a handshake every
                          SECONDS; prints when the server closed it
  per-source PORT N       N idle connections from one address, then one from
                          another; prints how many of each were closed at once
  hold PORT N SECONDS     keeps N idle connections open from many addresses
                          for SECONDS, reopening each one the server closes;
                          prints how many times it had to reopen
  idle PORT N SECONDS     opens N idle connections from many addresses and
                          keeps them SECONDS, never reopening; prints how
                          many the server closed
  handshakes PORT N       N connections, one after another from one address,
                          each sending a bogus initiation with a valid mac1
                          (so the server would do Diffie-Hellman work for it);
                          prints how long they took
"""
import base64
import hashlib
import json
import os
import resource
import selectors
import socket
import sys
import time

UPGRADE = (b"POST /control/v1 HTTP/1.1\r\nHost: tern\r\nUpgrade: tern-control/1\r\n"
           b"Connection: Upgrade\r\nContent-Length: 0\r\n\r\n")


def source(index, per_source):
    """The index-th client's address: per_source clients share each one."""
    n = index // per_source
    return "127.%d.%d.%d" % (10 + n // 62500, n // 250 % 250, n % 250 + 1)


def connect(port, address):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((address, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(s, timeout):
    """True when the server closes s (EOF or reset) within timeout seconds."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def seconds_until_closed(port, step, limit=30):
    """Runs step(s) every period until the server closes s; returns seconds."""
    s = connect(port, source(0, 1))
    started = time.monotonic()
    period = step(s, None)
    while time.monotonic() - started < limit:
        if closed_by_server(s, period):
            return time.monotonic() - started
        try:
            step(s, period)
        except OSError:
            return time.monotonic() - started
    return None


def oversized(port, count):
    clients = [connect(port, source(i, 8)) for i in range(count)]
    for s in clients:
        s.sendall(UPGRADE + b"\x00\x80\x00\x00")  # a frame of 8 MiB announced
    chunk = b"\xa5" * (256 * 1024)
    for s in clients:
        s.setblocking(False)
        try:
            s.send(chunk)
        except OSError:
            pass
    deadline = time.monotonic() + 10
    closed = 0
    for s in clients:
        if closed_by_server(s, max(0.01, deadline - time.monotonic())):
            closed += 1
        s.close()
    print("closed %d of %d" % (closed, count))


def keepalive(port, period):
    request = b"GET /health HTTP/1.1\r\nHost: tern\r\nConnection: keep-alive\r\n\r\n"

    def step(s, _):
        s.sendall(request)
        return period
    report(seconds_until_closed(port, step))


def trickle(port, period):
    def step(s, previous):
        # A handshake's header (148 bytes announced), then its body a byte at a time.
        s.sendall(UPGRADE + b"\x00\x00\x00\x94" if previous is None else b"\xa5")
        return period
    report(seconds_until_closed(port, step))


def report(seconds):
    print("never closed" if seconds is None else "closed after %.2f s" % seconds)


def closed_now(s):
    """True when the server has already closed s; never waits."""
    s.setblocking(False)
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def per_source(port, count):
    crowd = [connect(port, "127.9.9.9") for _ in range(count)]
    other = connect(port, "127.9.9.10")
    time.sleep(0.3)
    closed = sum(1 for s in crowd if closed_now(s))
    print("closed %d of %d from one address, %d of 1 from another"
          % (closed, count, 1 if closed_now(other) else 0))


def hold(port, count, seconds):
    selector = selectors.DefaultSelector()
    for i in range(count):
        selector.register(connect(port, source(i, 8)), selectors.EVENT_READ, i)
    reopened = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in selector.select(timeout=0.2):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if data:
                continue
            selector.unregister(key.fileobj)
            key.fileobj.close()
            try:
                selector.register(connect(port, source(key.data, 8)), selectors.EVENT_READ, key.data)
                reopened += 1
            except OSError:
                pass
    print("reopened %d" % reopened)


def idle(port, count, seconds):
    clients = [connect(port, source(i, 8)) for i in range(count)]
    time.sleep(seconds)
    print("closed %d of %d" % (sum(1 for s in clients if closed_now(s)), count))


def server_key(port):
    s = connect(port, "127.8.0.2")
    s.sendall(b"GET /control/v1/key HTTP/1.1\r\nHost: tern\r\nConnection: close\r\n\r\n")
    answer = b""
    while True:
        data = s.recv(4096)
        if not data:
            break
        answer += data
    return base64.b64decode(json.loads(answer.split(b"\r\n\r\n", 1)[1])["publicKey"])


def bogus_initiation(key):
    """A WireGuard initiation of random fields whose mac1 is right for key."""
    body = (1).to_bytes(4, "little") + os.urandom(4 + 32 + 48 + 28)
    mac_key = hashlib.blake2s(b"mac1----" + key).digest()
    return body + hashlib.blake2s(body, key=mac_key, digest_size=16).digest() + bytes(16)


def handshakes(port, count):
    key = server_key(port)
    started = time.monotonic()
    for _ in range(count):
        s = connect(port, "127.8.0.1")
        try:
            s.sendall(UPGRADE + b"\x00\x00\x00\x94" + bogus_initiation(key))
        except OSError:
            pass
        closed_by_server(s, 5)
        s.close()
    print("%d handshakes in %.2f s" % (count, time.monotonic() - started))


def main():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    scenario, port = sys.argv[1], int(sys.argv[2])
    if scenario == "oversized":
        oversized(port, int(sys.argv[3]))
    elif scenario == "keepalive":
        keepalive(port, float(sys.argv[3]))
    elif scenario == "trickle":
        trickle(port, float(sys.argv[3]))
    elif scenario == "per-source":
        per_source(port, int(sys.argv[3]))
    elif scenario == "hold":
        hold(port, int(sys.argv[3]), float(sys.argv[4]))
    elif scenario == "idle":
        idle(port, int(sys.argv[3]), float(sys.argv[4]))
    elif scenario == "handshakes":
        handshakes(port, int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
