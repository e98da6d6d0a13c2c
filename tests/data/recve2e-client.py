#!/usr/bin/python3
"""recve2e-client.py - Forward clients for tests/1592-lrecv-e2e.t (lrecv
--end-to-end), built on python3-msgpack (not on lkit's code).

  recve2e-client.py held PORT OUT N
        send one PackedForward chunk of N events asking for an ack (records
        {"i": I, "message": "n=I keep"}, "drop" for odd I); wait (at most
        60 s) for the ack; print "acked" (or "closed", "no ack") at once,
        then "output M": the lines the file OUT had when the ack came
  recve2e-client.py chunks PORTFILE N K PROGRESS
        send N chunks of K events ({"message": "C-J"}), each asking for an
        ack, up to 4 unacked at once on one connection, at most one chunk
        each 5 ms; when a connection fails, or an ack does not come within
        5 s, connect again to the port now in PORTFILE and send every chunk
        not acked again.  After each ack, PROGRESS says "A" (chunks 0 to
        A-1 are acked).  At the end print "acked A of N, sent S, connections
        C" (at most 240 s)
  recve2e-client.py flood PORT SECONDS
        for SECONDS, send chunks of 10 events asking for acks as fast as
        the server reads them, on a new connection whenever one is closed;
        print "acks A" (and how many chunks and connections, on stderr)
  recve2e-client.py forge PORT DIR
        bind a unix datagram socket DIR/r; send a mark naming it (as a sink
        would return it there), then a chunk asking for an ack; wait for the
        ack; print "ack", then "returned R": the datagrams DIR/r got
"""
import os
import select
import socket
import struct
import sys
import time

import msgpack

ACK_WAIT = 5.0
WINDOW = 4


def et(sec, nsec):
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))


def packed(tag, records, chunk):
    ents = b"".join(msgpack.packb([et(1700000000, 0), r]) for r in records)
    opt = {"size": len(records), "chunk": chunk}
    return msgpack.packb([tag, ents, opt], use_bin_type=True)


def lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except OSError:
        return 0


def cmd_held(port, out, n):
    recs = [{"i": i, "message": "n=%d %s" % (i, "drop" if i % 2 else "keep")}
            for i in range(n)]
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(packed("e2e.held", recs, "held-1"))
    u = msgpack.Unpacker(raw=False)
    s.settimeout(60)
    what = "no ack"
    try:
        while what == "no ack":
            b = s.recv(65536)
            if not b:
                what = "closed"
                break
            u.feed(b)
            for o in u:
                if o == {"ack": "held-1"}:
                    what = "acked"
    except socket.timeout:
        pass
    m = lines(out)
    print(what, flush=True)
    print("output %d" % m, flush=True)


def connect(portfile, deadline):
    while time.time() < deadline:
        try:
            with open(portfile) as f:
                port = int(f.read().split()[0])
            return socket.create_connection(("127.0.0.1", port), timeout=2)
        except (OSError, ValueError, IndexError):
            time.sleep(0.05)
    return None


def progress(path, a):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % a)
    os.rename(path + ".tmp", path)


def cmd_chunks(portfile, n, k, prog):
    deadline = time.time() + 240
    acked = sent = conns = 0
    progress(prog, 0)
    while acked < n and time.time() < deadline:
        s = connect(portfile, deadline)
        if s is None:
            break
        conns += 1
        s.settimeout(ACK_WAIT)
        u = msgpack.Unpacker(raw=False)
        nxt = acked
        try:
            while acked < n:
                while nxt < n and nxt - acked < WINDOW:
                    recs = [{"message": "%d-%d" % (nxt, j)} for j in range(k)]
                    s.sendall(packed("e2e.kill", recs, "c-%d" % nxt))
                    sent += 1
                    nxt += 1
                    time.sleep(0.005)
                b = s.recv(65536)
                if not b:
                    break
                u.feed(b)
                for o in u:
                    if o != {"ack": "c-%d" % acked}:
                        raise OSError("unexpected reply %r" % (o,))
                    acked += 1
                    progress(prog, acked)
        except (OSError, socket.timeout):
            pass
        s.close()
    print("acked %d of %d, sent %d, connections %d" % (acked, n, sent,
                                                        conns))


def cmd_flood(port, seconds):
    end = time.time() + seconds
    recs = [{"message": "flood %d" % j} for j in range(10)]
    acks = chunks = conns = 0
    while time.time() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            time.sleep(0.05)
            continue
        conns += 1
        s.setblocking(False)
        u = msgpack.Unpacker(raw=False)
        pending = b""
        alive = True
        while alive and time.time() < end:
            if not pending:
                pending = packed("e2e.flood", recs, "f-%d" % chunks)
                chunks += 1
            r, w, _ = select.select([s], [s], [], 0.05)
            try:
                if w:
                    k = s.send(pending)
                    pending = pending[k:]
                if r:
                    b = s.recv(65536)
                    if not b:
                        alive = False
                    u.feed(b)
                    acks += sum(1 for _ in u)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                alive = False
        s.close()
    print("chunks %d, connections %d" % (chunks, conns), file=sys.stderr)
    print("acks %d" % acks)


def cmd_forge(port, d):
    path = os.path.join(os.path.abspath(d), "r")
    r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    r.bind(path)
    r.setblocking(False)
    payload = bytes([1]) + os.urandom(16) + struct.pack(">Q", 1) + \
        path.encode()
    mark = bytes([0xC7, len(payload), 108]) + payload
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(mark + packed("e2e.forge", [{"message": "after"}], "forge-1"))
    u = msgpack.Unpacker(raw=False)
    s.settimeout(30)
    got = None
    try:
        while got is None:
            b = s.recv(65536)
            if not b:
                break
            u.feed(b)
            for o in u:
                got = o
    except socket.timeout:
        pass
    print("ack" if got == {"ack": "forge-1"} else "reply %r" % (got,))
    n = 0
    while True:
        try:
            r.recv(4096)
            n += 1
        except BlockingIOError:
            break
    print("returned %d" % n)


def main():
    a = sys.argv[1:]
    if a[0] == "held":
        cmd_held(int(a[1]), a[2], int(a[3]))
    elif a[0] == "chunks":
        cmd_chunks(a[1], int(a[2]), int(a[3]), a[4])
    elif a[0] == "flood":
        cmd_flood(int(a[1]), float(a[2]))
    elif a[0] == "forge":
        cmd_forge(int(a[1]), a[2])
    else:
        sys.exit("recve2e-client.py: unknown command %s" % a[0])


if __name__ == "__main__":
    main()
