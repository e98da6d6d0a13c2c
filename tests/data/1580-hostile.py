#!/usr/bin/python3
"""1580-hostile.py - hostile and impatient clients for the lrecv tests
(tests/158*-lrecv-*.t), built on python3-msgpack, not on lkit's code.
Every wait is bounded.

  noauth PORT N            N clients each send one event without the
                           handshake (every third a wrong PING) and close
                           at once; print "done N"
  hold PORT N READY GO     open N connections (each sends one byte of a
                           request), create READY, wait for GO (30 s at
                           most), close them; print how many the server
                           closed first
  trickle PORT FILE SECS   send FILE one byte every SECS seconds; print
                           "closed after K of N bytes" if the server closes
                           first, else "sent all N"; then what the server
                           sent, as hex
  pieces PORT N SECS       N requests with acks, each sent in 4 pieces SECS
                           seconds apart; print "acked A of N"
  partial PORT N SIZE READY GO
                           N connections each send the head of a 16 MB
                           PackedForward request and SIZE bytes of it,
                           create READY, wait for GO (30 s at most); print
                           how many the server closed
  flood PORT STARTED STOP SECS
                           send nil heartbeats as fast as possible (create
                           STARTED once 4 MB went) until STOP exists
                           ("stopped") or SECS pass ("timed out")
  ackwait PORT FILE SECS STOP
                           send FILE, wait up to SECS for a reply, create
                           STOP; print the reply as hex, or "none"
  expect PORT TAG BODY     an HTTP/1.1 POST with Expect: 100-continue: the
                           head, then the body only once 100 Continue came
                           (5 s at most); print each status line received
  post PORT PATH TYPE FILE a POST of FILE to PATH (sent as it is); print
                           the status code and the body
"""
import os
import socket
import struct
import sys
import time

import msgpack


def et(sec, nsec):
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_peer(s):
    """True if the server closed s (EOF or reset), False if still open."""
    s.setblocking(False)
    return read_ready(s)[1]


def wait_file(path, secs):
    end = time.time() + secs
    while not os.path.exists(path) and time.time() < end:
        time.sleep(0.05)


def cmd_noauth(port, n):
    ev = msgpack.packb(["t.noauth", 1, {"a": 1}])
    ping = msgpack.packb(["PING", "h", "salt", "0" * 128, "", ""])
    for i in range(n):
        try:
            s = connect(port)
            s.sendall(ping if i % 3 == 2 else ev)
            s.close()
        except OSError as e:
            print("client %d: %s" % (i, e))
            return
    print("done %d" % n)


def cmd_hold(port, n, ready, go):
    socks = []
    for _ in range(n):
        s = connect(port)
        s.sendall(b"\x93")
        socks.append(s)
    open(ready, "w").close()
    wait_file(go, 30)
    print("closed by the server: %d" % sum(closed_by_peer(s) for s in socks))
    for s in socks:
        s.close()


def read_ready(s):
    """What s holds now, and whether the server closed it."""
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return got, True
            got += b
    except BlockingIOError:
        return got, False
    except OSError:
        return got, True


def cmd_trickle(port, path, secs):
    data = open(path, "rb").read()
    s = connect(port)
    s.setblocking(False)
    reply = b""
    for k in range(len(data)):
        try:
            s.send(data[k:k + 1])
        except BlockingIOError:
            pass
        except OSError:
            got, _ = read_ready(s)
            print("closed after %d of %d bytes" % (k, len(data)))
            print((reply + got).hex())
            return
        time.sleep(secs)
        got, closed = read_ready(s)
        reply += got
        if closed:
            print("closed after %d of %d bytes" % (k + 1, len(data)))
            print(reply.hex())
            return
    s.settimeout(5)
    try:
        while len(reply) < 20:
            b = s.recv(65536)
            if not b:
                break
            reply += b
    except OSError:
        pass
    print("sent all %d" % len(data))
    print(reply.hex())


def cmd_pieces(port, n, secs):
    s = connect(port)
    u = msgpack.Unpacker(raw=False)
    acked = 0
    for i in range(n):
        req = msgpack.packb(["t.pieces", [[et(1502880723, 0), {"i": i}]],
                            {"chunk": "p%d" % i}], use_bin_type=True)
        q = (len(req) + 3) // 4
        for k in range(0, len(req), q):
            s.sendall(req[k:k + q])
            time.sleep(secs)
        s.settimeout(5)
        while True:
            b = s.recv(4096)
            if not b:
                break
            u.feed(b)
            got = [o["ack"] for o in u]
            if got:
                acked += got == ["p%d" % i]
                break
    print("acked %d of %d" % (acked, n))


def cmd_partial(port, n, size, ready, go):
    total = 16 << 20
    head = (b"\x93" + msgpack.packb("t.partial") + b"\xc6" +
            struct.pack(">I", total))
    one = msgpack.packb([et(1502880723, 0), {"pad": "x" * 100}])
    body = (one * (size // len(one) + 1))[:size]
    socks = []
    for _ in range(n):
        s = connect(port)
        try:
            s.sendall(head + body)
        except OSError:
            pass
        socks.append(s)
    open(ready, "w").close()
    wait_file(go, 30)
    print("closed by the server: %d" % sum(closed_by_peer(s) for s in socks))


def cmd_flood(port, started, stop, secs):
    s = connect(port)
    block = b"\xc0" * 65536
    end = time.time() + secs
    n = 0
    while not os.path.exists(stop) and time.time() < end:
        s.sendall(block)
        n += 1
        if n == 64:
            open(started, "w").close()
    print("stopped" if os.path.exists(stop) else "timed out")


def cmd_ackwait(port, path, secs, stop):
    s = connect(port)
    s.sendall(open(path, "rb").read())
    s.settimeout(secs)
    try:
        b = s.recv(4096)
    except OSError:
        b = b""
    open(stop, "w").close()
    print(b.hex() if b else "none")


def status_lines(s, want):
    """Status lines received until want of them or the end (5 s)."""
    got, buf = [], b""
    s.settimeout(5)
    try:
        while len(got) < want:
            b = s.recv(4096)
            if not b:
                break
            buf += b
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                got.append(head.split(b"\r\n")[0].decode())
    except OSError:
        pass
    return got


def cmd_expect(port, tag, body):
    s = connect(port)
    body = body.encode()
    s.sendall(("POST /%s HTTP/1.1\r\nHost: x\r\nContent-Type: "
               "application/json\r\nContent-Length: %d\r\nExpect: "
               "100-continue\r\n\r\n" % (tag, len(body))).encode())
    got = status_lines(s, 1)
    for line in got:
        print(line)
    if got and " 100 " in got[0] + " ":
        s.sendall(body)
        for line in status_lines(s, 1):
            print(line)


def cmd_post(port, path, ctype, body_file):
    s = connect(port)
    body = open(body_file, "rb").read()
    s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n"
               % (path, ctype, len(body))).encode() + body)
    got = b""
    s.settimeout(5)
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    head, _, rest = got.partition(b"\r\n\r\n")
    line = head.split(b"\r\n")[0].split(b" ")
    print("%s %s" % (line[1].decode() if len(line) > 1 else "none",
                     rest.decode(errors="replace").strip()))


def main():
    a = sys.argv[1:]
    port = int(a[1])
    if a[0] == "noauth":
        cmd_noauth(port, int(a[2]))
    elif a[0] == "hold":
        cmd_hold(port, int(a[2]), a[3], a[4])
    elif a[0] == "trickle":
        cmd_trickle(port, a[2], float(a[3]))
    elif a[0] == "pieces":
        cmd_pieces(port, int(a[2]), float(a[3]))
    elif a[0] == "partial":
        cmd_partial(port, int(a[2]), int(a[3]), a[4], a[5])
    elif a[0] == "flood":
        cmd_flood(port, a[2], a[3], float(a[4]))
    elif a[0] == "ackwait":
        cmd_ackwait(port, a[2], float(a[3]), a[4])
    elif a[0] == "post":
        cmd_post(port, a[2], a[3], a[4])
    elif a[0] == "expect":
        cmd_expect(port, a[2], a[3])
    sys.stdout.flush()


if __name__ == "__main__":
    main()
