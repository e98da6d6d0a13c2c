#!/usr/bin/python3
"""fwdpeer.py - a Forward-protocol client and fake server for the lrecv and
lforward tests, built on python3-msgpack (not on lkit's code).

  fwdpeer.py send PORT FILE       send FILE's bytes, half-close, print the
                                  reply as hex (all of it, until EOF)
  fwdpeer.py text PORT FILE [N]   the same in pieces of N bytes (default all
                                  at once), printing the reply as it is
                                  (JSON mode) and a newline
  fwdpeer.py empty PORT           send requests that yield no event but ask
                                  for an ack; print each ack received
  fwdpeer.py held PORT GOFILE     send events, then an empty request asking
                                  for an ack; say whether the ack came before
                                  GOFILE was created (the reader of lrecv's
                                  stdout starts then) and after
  fwdpeer.py acks PORT N K        send N PackedForward chunks of K events, each
                                  asking for an ack; print "acked A of N"
  fwdpeer.py auth PORT KEY HOST [USER PASS] [--wrong]
                                  handshake as out_forward does, send one
                                  chunk with an ack; print what came back
  fwdpeer.py udp PORT             one UDP heartbeat; print the reply as hex
  fwdpeer.py server PORTFILE MODE [SECONDS [CAPTURE]]
                                  a fake server: MODE ack (answer acks),
                                  silent (read, never answer), close (close
                                  after the first request); prints one line
                                  "request TAG N CHUNK-ID" per request and
                                  "events N" at exit; CAPTURE gets the raw
                                  bytes received
"""
import gzip
import hashlib
import os
import socket
import struct
import sys
import time

import msgpack


def et(sec, nsec):
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))


def packed(tag, n, first, chunk):
    ents = b"".join(msgpack.packb([et(1502880723, 0), {"i": first + k}])
                    for k in range(n))
    opt = {"size": n, "compressed": "text"}
    if chunk is not None:
        opt["chunk"] = chunk
    return msgpack.packb([tag, ents, opt], use_bin_type=True)


def read_all(s, timeout=5.0):
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (socket.timeout, OSError):
        pass
    return data


def cmd_send(port, path):
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(open(path, "rb").read())
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass    # the server closed first: print what it sent
    print(read_all(s).hex())


def cmd_text(port, path, piece=0):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = open(path, "rb").read()
    piece = piece or len(data) or 1
    try:
        for i in range(0, len(data), piece):
            s.sendall(data[i:i + piece])
            if piece < len(data):
                time.sleep(0.002)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    sys.stdout.buffer.write(read_all(s) + b"\n")


def empty_requests():
    """Requests with no event to write, each asking for an ack."""
    nil2 = msgpack.packb([1, None]) + msgpack.packb([2, None])
    one = msgpack.packb([et(1502880723, 0), {"k": "v"}])
    return [
        ["e.fwd0", [], {"chunk": "forward-empty"}],
        ["e.packed0", b"", {"chunk": "packed-empty", "size": 0}],
        ["e.fwdnil", [[1, None], [2, None]], {"chunk": "forward-nil"}],
        ["e.packednil", nil2, {"chunk": "packed-nil", "size": 2}],
        ["e.gzipnil", gzip.compress(nil2, mtime=0),
         {"chunk": "gzip-nil", "compressed": "gzip"}],
        ["e.nillast", one + nil2, {"chunk": "nil-last"}],
        ["e.message", 1, None, {"chunk": "message-nil"}],  # no ack
        ["e.fwd1", [[et(1502880723, 0), {"k": "w"}]], {"chunk": "last"}],
    ]


def recv_objs(s, u, want, timeout):
    got = []
    s.settimeout(timeout)
    try:
        while len(got) < want:
            b = s.recv(65536)
            if not b:
                break
            u.feed(b)
            got.extend(u)
    except socket.timeout:
        pass
    return got


def cmd_empty(port):
    s = socket.create_connection(("127.0.0.1", port))
    for r in empty_requests():
        s.sendall(msgpack.packb(r, use_bin_type=True))
    u = msgpack.Unpacker(raw=False)
    for o in recv_objs(s, u, 7, 5):
        print(o["ack"])


def cmd_held(port, gofile):
    s = socket.create_connection(("127.0.0.1", port))
    ents = b"".join(msgpack.packb([et(1502880723, 0), {"i": k, "pad": "x" * 200}])
                    for k in range(2000))
    s.sendall(msgpack.packb(["h.events", ents], use_bin_type=True))
    s.sendall(msgpack.packb(["h.empty", [], {"chunk": "after-events"}]))
    u = msgpack.Unpacker(raw=False)
    early = recv_objs(s, u, 1, 1.0)
    open(gofile, "w").close()
    late = early or recv_objs(s, u, 1, 10)
    print("before: %s, after: %s" % (
        [o["ack"] for o in early] or "none", [o["ack"] for o in late]))


def cmd_acks(port, n, k):
    s = socket.create_connection(("127.0.0.1", port))
    want = []
    for c in range(n):
        cid = "chunk-%d\n" % c
        want.append(cid)
        s.sendall(packed("t.acks", k, c * k, cid))
    u = msgpack.Unpacker(raw=False)
    got = []
    s.settimeout(10)
    while len(got) < n:
        b = s.recv(65536)
        if not b:
            break
        u.feed(b)
        for o in u:
            got.append(o["ack"])
    print("acked %d of %d%s" % (len(got), n,
                                "" if got == want else " (out of order)"))


def digest(*parts):
    h = hashlib.sha512()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
    return h.hexdigest()


def cmd_auth(port, key, host, user="", pw="", wrong=False):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    u = msgpack.Unpacker(raw=False)
    helo = None
    while helo is None:
        b = s.recv(4096)
        if not b:
            print("closed before HELO")
            return
        u.feed(b)
        for o in u:
            helo = o
    print("HELO keepalive=%s auth=%d" % (helo[1]["keepalive"],
                                         len(helo[1]["auth"])))
    nonce, auth = helo[1]["nonce"], helo[1]["auth"]
    salt = os.urandom(16).hex()
    k = key + "x" if wrong else key
    pd = digest(auth, user, pw) if auth else ""
    s.sendall(msgpack.packb(["PING", host, salt, digest(salt, host, nonce, k),
                             user, pd]))
    s.sendall(packed("t.auth", 2, 0, "auth-chunk\n"))
    s.shutdown(socket.SHUT_WR)
    data = read_all(s)
    u.feed(data)
    for o in u:
        if isinstance(o, list) and o[0] == "PONG":
            if o[1]:
                good = o[4] == digest(salt, o[3], nonce, key)
                print("PONG true host=%s digest=%s" % (o[3],
                      "ok" if good else "BAD"))
            else:
                print("PONG false %s" % o[2])
        else:
            print("reply %s" % o)


def cmd_udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(b"\x00", ("127.0.0.1", port))
    print(s.recvfrom(64)[0].hex())


def cmd_server(portfile, mode, seconds=30.0, capture=None):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    ls.settimeout(0.2)
    end = time.time() + seconds
    events = 0
    conns = []
    while time.time() < end:
        try:
            c, _ = ls.accept()
            c.settimeout(0.05)
            conns.append([c, msgpack.Unpacker(raw=True)])
        except socket.timeout:
            pass
        for cu in list(conns):
            c, u = cu
            try:
                b = c.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                b = b""
            if not b:
                conns.remove(cu)
                c.close()
                continue
            if capture:
                with open(capture, "ab") as f:
                    f.write(b)
            u.feed(b)
            for o in u:
                if not isinstance(o, list):
                    continue
                opt = o[2] if len(o) > 2 else {}
                body = o[1]
                if opt.get(b"compressed") == b"gzip":
                    body = gzip.decompress(body)
                ents = msgpack.Unpacker(raw=True)
                ents.feed(body)
                n = sum(1 for _ in ents)
                events += n
                cid = opt.get(b"chunk")
                print("request %s %d %s" % (o[0].decode(), n,
                      cid.decode().strip() if cid else "-"), flush=True)
                if mode == "ack" and cid:
                    c.sendall(msgpack.packb({"ack": cid.decode()}))
                if mode == "close":
                    conns.remove(cu)
                    c.close()
                    break
    print("events %d" % events, flush=True)


def main():
    a = sys.argv[1:]
    if a[0] == "send":
        cmd_send(int(a[1]), a[2])
    elif a[0] == "text":
        cmd_text(int(a[1]), a[2], int(a[3]) if len(a) > 3 else 0)
    elif a[0] == "empty":
        cmd_empty(int(a[1]))
    elif a[0] == "held":
        cmd_held(int(a[1]), a[2])
    elif a[0] == "acks":
        cmd_acks(int(a[1]), int(a[2]), int(a[3]))
    elif a[0] == "auth":
        wrong = "--wrong" in a
        a = [x for x in a if x != "--wrong"]
        cmd_auth(int(a[1]), a[2], a[3], *a[4:6], wrong=wrong)
    elif a[0] == "udp":
        cmd_udp(int(a[1]))
    elif a[0] == "server":
        cmd_server(a[1], a[2], float(a[3]) if len(a) > 3 else 30.0,
                   a[4] if len(a) > 4 else None)


if __name__ == "__main__":
    main()
