#!/usr/bin/python3
"""marks.py - an end-to-end mark producer and stream checker for the tests,
built on python3-msgpack (not on lkit's code).  A mark is made exactly as
lkit-stream(5) says: ext8 of type 108, payload version 1, a 16-byte id,
the sequence (uint64 BE) and the absolute path of a unix datagram socket.

SPEC is a list of items: eN (N events, numbered on from 1: tag TAG, time
1700000000 + i, record {"i": i, "message": "{\\"j\\": i}"}), m (a mark),
x (one event whose message is not JSON, {"i": i, "message": "x"}); and for
run, w (wait, at most 20 s, until the last mark made came back).

  marks.py stream [--id HEX] [--path P] [--tag TAG] [--first I] [--seq S]
                  [--maps] SPEC...
        write the stream to stdout (marks name P, default /nonexistent/r;
        events numbered from I, marks from S; --maps: records, not events)
  marks.py decode
        read a stream on stdin; print one line: "eI" per event (I is the
        record's i, else its j, else ?), "mSEQ" per mark ("m!" if it is
        not version 1 with an absolute path), "?" for anything else
  marks.py run [--report FILE] [--tag TAG] SPEC... -- CMD...
        bind a socket in a private directory, run CMD with the stream (its
        marks naming the socket) on stdin (a file; a pipe if SPEC has a w)
        and stdout inherited; after it exits, write "returned SEQ..." (in
        arrival order, or "none") to FILE (default stderr); a datagram
        that is not exactly a mark made here is "bad"
  marks.py blocked SPEC... -- CMD...
        run CMD with the stream on stdin and stdout to a pipe not read
        until it is full (65536 bytes); then print "before: SEQ..." for the
        returns so far, read the pipe to its end, wait for CMD, print
        "after: SEQ..." and "lines N"
"""
import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time

import msgpack

MARK_EXT = 108
DEFAULT_ID = bytes(range(1, 17))


def et(sec, nsec):
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))


def mark(mid, seq, path):
    payload = bytes([1]) + mid + struct.pack(">Q", seq) + path.encode()
    assert 26 <= len(payload) <= 255
    return bytes([0xC7, len(payload), MARK_EXT]) + payload


def build(spec, mid, path, tag, first=1, seq0=1, maps=False):
    """The stream in segments (split at each w, with the last sequence
    made before it), and the marks made: bytes to sequence."""
    segs = []
    out = []
    i = first - 1
    seq = seq0 - 1
    marks = {}
    for item in spec:
        if item == "w":
            segs.append((b"".join(out), seq))
            out = []
        elif item == "m":
            seq += 1
            b = mark(mid, seq, path)
            marks[b] = seq
            out.append(b)
        elif item == "x" or item.startswith("e"):
            n = 1 if item == "x" else int(item[1:])
            for _ in range(n):
                i += 1
                msg = "x" if item == "x" else '{"j": %d}' % i
                rec = {"i": i, "message": msg}
                ev = rec if maps else [tag, et(1700000000 + i, 0), rec]
                out.append(msgpack.packb(ev, use_bin_type=True))
        else:
            sys.exit("marks.py: bad SPEC item %r" % item)
    segs.append((b"".join(out), seq))
    return segs, marks


def opts(a, names):
    got = {}
    while a and a[0] in names:
        if a[0] == "--maps":
            got[a[0]] = True
            a = a[1:]
        else:
            got[a[0]] = a[1]
            a = a[2:]
    return got, a


def cmd_stream(a):
    o, spec = opts(a, ("--id", "--path", "--tag", "--first", "--seq",
                       "--maps"))
    mid = bytes.fromhex(o["--id"]) if "--id" in o else DEFAULT_ID
    segs, _ = build(spec, mid, o.get("--path", "/nonexistent/r"),
                    o.get("--tag", "t"), int(o.get("--first", 1)),
                    int(o.get("--seq", 1)), "--maps" in o)
    sys.stdout.buffer.write(b"".join(d for d, _ in segs))


def describe(o):
    if isinstance(o, msgpack.ExtType) and o.code == MARK_EXT:
        d = o.data
        if len(d) < 26 or d[0] != 1 or not d[25:].startswith(b"/"):
            return "m!"
        return "m%d" % struct.unpack(">Q", d[17:25])[0]
    if isinstance(o, list) and len(o) == 3 and isinstance(o[2], dict):
        r = o[2]
        return "e%s" % r.get("i", r.get("j", "?"))
    return "?"


def cmd_decode():
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    u.feed(sys.stdin.buffer.read())
    print(" ".join(describe(o) for o in u))


class Producer:
    def __init__(self, spec, tag="t"):
        self.dir = tempfile.mkdtemp(prefix="lkit-marks-test.")
        self.path = os.path.join(os.path.abspath(self.dir), "r")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.segs, self.marks = build(spec, os.urandom(16), self.path, tag)
        self.input = tempfile.TemporaryFile()
        self.input.write(b"".join(d for d, _ in self.segs))
        self.input.seek(0)
        self.got = []

    def recv(self):
        while True:
            try:
                d = self.sock.recv(4096)
            except BlockingIOError:
                break
            self.got.append(self.marks.get(d, "bad"))

    def returns(self):
        self.recv()
        got, self.got = self.got, []
        return " ".join(str(g) for g in got) if got else "none"

    def feed(self, proc):
        """Writes the segments to proc's stdin; after each but the last,
        waits (at most 20 s) for every mark made so far to come back."""
        seen = []
        for k, (data, seq) in enumerate(self.segs):
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except BrokenPipeError:
                break
            if k == len(self.segs) - 1:
                break
            end = time.time() + 20
            while time.time() < end and proc.poll() is None:
                self.recv()
                if seq in self.got:
                    break
                time.sleep(0.01)
            seen += self.got
            self.got = []
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        self.got = seen + self.got

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir)


def split_cmd(a):
    k = a.index("--")
    return a[:k], a[k + 1:]


def cmd_run(a):
    o, a = opts(a, ("--report", "--tag"))
    spec, cmd = split_cmd(a)
    p = Producer(spec, o.get("--tag", "t"))
    try:
        if len(p.segs) == 1:
            rc = subprocess.call(cmd, stdin=p.input, timeout=120)
        else:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
            p.feed(proc)
            rc = proc.wait(timeout=120)
        line = "returned %s\n" % p.returns()
        if "--report" in o:
            with open(o["--report"], "w") as f:
                f.write(line)
        else:
            sys.stderr.write(line)
    finally:
        p.close()
    sys.exit(rc)


def pending(fd):
    b = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    return struct.unpack("i", b)[0]


def cmd_blocked(a):
    spec, cmd = split_cmd(a)
    p = Producer(spec)
    try:
        r, w = os.pipe()
        proc = subprocess.Popen(cmd, stdin=p.input, stdout=w)
        os.close(w)
        end = time.time() + 30
        while (pending(r) < 65536 and proc.poll() is None and
               time.time() < end):
            time.sleep(0.01)
        print("before: %s" % p.returns())
        data = b""
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            data += b
        proc.wait(timeout=60)
        print("after: %s" % p.returns())
        print("lines %d" % data.count(b"\n"))
    finally:
        p.close()


def main():
    a = sys.argv[1:]
    if a[0] == "stream":
        cmd_stream(a[1:])
    elif a[0] == "decode":
        cmd_decode()
    elif a[0] == "run":
        cmd_run(a[1:])
    elif a[0] == "blocked":
        cmd_blocked(a[1:])
    else:
        sys.exit("marks.py: unknown command %r" % a[0])


main()
