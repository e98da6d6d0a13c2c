#!/usr/bin/env python3
"""syslogin-hostile.py PORT CASE: one hostile syslog client for lrecv.

Cases: hugelen, skiplen, nondigit, partial, garbage.  Prints "closed"
when lrecv closed the connection within 20 s, "open" otherwise.
"""
import random
import socket
import sys
import time

port, case = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
good = b"<14>1 2026-01-01T00:00:00Z h app 1 - - ok\n"
try:
    if case == "hugelen":
        s.sendall(b"99999999999999999999 <14>1 x\n" + good)
    elif case == "skiplen":
        s.sendall(b"1000000000 " + b"x" * 100000)
        s.shutdown(socket.SHUT_WR)
    elif case == "nondigit":
        s.sendall(b"12x4 <14>1 - h app - - - hi\n")
    elif case == "partial":
        s.sendall(b"50 <14>1 2026-01-01T00:00:00Z h app")
    elif case == "garbage":
        r = random.Random(1593)
        s.sendall(bytes(r.randrange(256) for _ in range(10000)))
        s.shutdown(socket.SHUT_WR)
    end = time.time() + 20
    state = "open"
    while time.time() < end:
        try:
            b = s.recv(4096)
        except socket.timeout:
            break
        except OSError:
            state = "closed"
            break
        if not b:
            state = "closed"
            break
    print(state)
finally:
    s.close()
