#!/usr/bin/python3
"""loutpath-marks.py - feeds lout --path batches of events spread over many
files, an end-to-end mark after each, and checks that each mark comes back
only once every event before it is in the files.  Built on python3-msgpack;
marks made as lkit-stream(5) says (ext8 of type 108: version 1, a 16-byte
id, the sequence as uint64 BE, the path of a unix datagram socket).

  loutpath-marks.py batches TREE FILES BATCHES PER -- CMD...

Event k (from 0) has tag "t", time 1700000000 + k and record
{"i": k, "f": k % FILES}.  After each batch of PER events and its mark it
waits (at most 20 s) for the mark to come back, then reads every file
under TREE (JSON lines) and prints "batch B: N events" with the events
found, or "batch B: no return" / "batch B: events missing ..." /
"batch B: events twice ...".  At the end: "exit RC".

  loutpath-marks.py held TREE WAIT -- CMD...

A write that cannot happen yet: makes TREE/fifo.log a FIFO, then sends 3
events {"i": k, "f": "a"} (for TREE/a.log, say), a mark, and one event
{"i": 3, "f": "fifo"}, whose file blocks CMD until it has a reader.  It
waits WAIT seconds for the mark (a short time when it must not come, as
the events for TREE/a.log are not written, long when it must, as CMD
closed that file to make room), then opens the FIFO and waits for the
mark (at most 20 s).  Prints "mark back before the fifo was read: N
events in a.log" (or "after"), N counted when the mark came; "no return";
"fifo: N events"; "exit RC".
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import msgpack


def mark(mid, seq, path):
    payload = bytes([1]) + mid + struct.pack(">Q", seq) + path.encode()
    return bytes([0xC7, len(payload), 108]) + payload


def event(k, nfiles):
    t = msgpack.ExtType(0, struct.pack(">II", 1700000000 + k, 0))
    return msgpack.packb(["t", t, {"i": k, "f": k % nfiles}],
                         use_bin_type=True)


def found(tree):
    ids = []
    for d, _, names in os.walk(tree):
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                for line in f.read().split(b"\n")[:-1]:
                    ids.append(json.loads(line)["i"])
    return ids


def wait_return(sock, mid, seq, path, proc):
    want = mark(mid, seq, path)
    end = time.time() + 20
    while time.time() < end and proc.poll() is None:
        try:
            if sock.recv(4096) == want:
                return True
        except BlockingIOError:
            time.sleep(0.01)
    return False


def lines(p):
    try:
        with open(p, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def held(tree, wait, sock, mid, path, proc):
    os.makedirs(tree, exist_ok=True)
    fifo = os.path.join(tree, "fifo.log")
    os.mkfifo(fifo)
    data = b"".join(msgpack.packb(["t", 1700000000 + k, {"i": k, "f": "a"}])
                    for k in range(3))
    data += mark(mid, 1, path)
    data += msgpack.packb(["t", 1700000003, {"i": 3, "f": "fifo"}])
    proc.stdin.write(data)
    proc.stdin.flush()
    got = None
    end = time.time() + wait
    while got is None and time.time() < end:
        try:
            if sock.recv(4096) == mark(mid, 1, path):
                got = "before"
        except BlockingIOError:
            time.sleep(0.01)
    if got:
        n = lines(os.path.join(tree, "a.log"))
    r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    if not got and wait_return(sock, mid, 1, path, proc):
        got = "after"
        n = lines(os.path.join(tree, "a.log"))
    if got:
        print("mark back %s the fifo was read: %d events in a.log" %
              (got, n))
    else:
        print("no return")
    proc.stdin.close()
    rc = proc.wait(timeout=60)
    os.set_blocking(r, True)
    b = b""
    while True:
        c = os.read(r, 65536)
        if not c:
            break
        b += c
    os.close(r)
    print("fifo: %d events" % b.count(b"\n"))
    print("exit %d" % rc)


def batches(a, sock, mid, path, proc):
    tree, nfiles, nbatches, per = a[0], int(a[1]), int(a[2]), int(a[3])
    sent = 0
    for b in range(1, nbatches + 1):
        data = b"".join(event(sent + i, nfiles) for i in range(per))
        proc.stdin.write(data + mark(mid, b, path))
        proc.stdin.flush()
        sent += per
        if not wait_return(sock, mid, b, path, proc):
            print("batch %d: no return" % b)
            continue
        ids = found(tree)
        missing = sorted(set(range(sent)) - set(ids))
        if missing:
            print("batch %d: events missing %s" % (b, missing[:10]))
        elif len(ids) != len(set(ids)):
            print("batch %d: events twice" % b)
        else:
            print("batch %d: %d events" % (b, len(ids)))
    proc.stdin.close()
    print("exit %d" % proc.wait(timeout=60))


def main():
    a = sys.argv[1:]
    k = a.index("--")
    cmd = a[k + 1:]
    d = tempfile.mkdtemp(prefix="lkit-loutpath.")
    path = os.path.join(os.path.abspath(d), "r")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    mid = os.urandom(16)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    try:
        if a[0] == "held":
            held(a[1], float(a[2]), sock, mid, path, proc)
        else:
            batches(a[1:k], sock, mid, path, proc)
    finally:
        sock.close()
        shutil.rmtree(d)


main()
