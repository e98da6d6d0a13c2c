#!/usr/bin/env python3
"""hbsrv.py KEY PORTFILE: an in_forward-like server with a shared key.

It sends HELO on every connection, checks the PING's digest, answers PONG
and counts events.  On SIGTERM (or after 60 s) it prints one line:
  connections N early N bad N pongs N events N
early: closed before a PING arrived (Fluent Bit logs "handshake error
expecting PING" for these); bad: a PING with a wrong digest or garbage.
"""
import hashlib
import os
import signal
import socket
import sys
import threading
import time

import msgpack

KEY = sys.argv[1]
HOST = "hbsrv.example"
lock = threading.Lock()
n = {"connections": 0, "early": 0, "bad": 0, "pongs": 0, "events": 0}
stop = threading.Event()


def digest(*parts):
    h = hashlib.sha512()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
    return h.hexdigest()


def count(k, v=1):
    with lock:
        n[k] += v


def events(o):
    body = o[1]
    if isinstance(body, list):
        return len(body)
    if isinstance(body, (bytes, str)):
        u = msgpack.Unpacker(raw=True)
        u.feed(body if isinstance(body, bytes) else body.encode())
        return sum(1 for _ in u)
    return 1


def serve(c):
    c.settimeout(5)
    nonce = os.urandom(16)
    pinged = False
    u = msgpack.Unpacker(raw=True)
    try:
        c.sendall(msgpack.packb(["HELO", {"nonce": nonce, "auth": b"",
                                          "keepalive": True}]))
        while True:
            b = c.recv(65536)
            if not b:
                break
            u.feed(b)
            for o in u:
                if not pinged:
                    if not (isinstance(o, list) and len(o) == 6 and
                            o[0] == b"PING" and
                            o[3] == digest(o[2], o[1], nonce, KEY).encode()):
                        count("bad")
                        return
                    pinged = True
                    salt = o[2]
                    c.sendall(msgpack.packb(
                        ["PONG", True, "", HOST,
                         digest(salt, HOST, nonce, KEY)]))
                    count("pongs")
                elif isinstance(o, list) and len(o) >= 2:
                    count("events", events(o))
    except (OSError, ValueError):
        pass
    finally:
        if not pinged:
            count("early")
        c.close()


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    ls.settimeout(0.1)
    pf = sys.argv[2]
    with open(pf + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(pf + ".tmp", pf)
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    end = time.time() + 60
    threads = []
    while not stop.is_set() and time.time() < end:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        count("connections")
        t = threading.Thread(target=serve, args=(c,), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(6)
    print("connections %(connections)d early %(early)d bad %(bad)d "
          "pongs %(pongs)d events %(events)d" % n, flush=True)


main()
