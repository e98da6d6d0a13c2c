#!/usr/bin/python3
"""lbm-marks.py - end-to-end marks through lbuffer, for the tests: a mark
producer that logs each return as it comes, a kill -9 loop and its output
command.  Built on python3-msgpack, not on lkit's code.  A mark is made as
lkit-stream(5) says: ext8 of type 108, payload version 1, a 16-byte id,
the sequence (uint64 BE) and the absolute path of a unix datagram socket.
Events are [TAG, EventTime(1700000000 + i), {"i": i}], i from 1.

  lbm-marks.py feed LOG SPEC... -- CMD...
        runs CMD with the stream of SPEC on stdin (a file; a pipe if SPEC
        has a w) and appends "returned SEQ" to LOG as each mark comes
        back, until CMD exits (120 s at most); exits with its status.
        SPEC: eN (N events), m (a mark), w (wait, 20 s at most, for the
        last mark made to come back)
  lbm-marks.py crash DIR OUT ROUNDS SEED -- OPTION...
        ROUNDS times: starts lbuffer --dir DIR OPTION... with this script's
        sink as COMMAND, feeds it batches of events, each with a mark
        after it, from the event after the last one a returned mark
        covers (as a producer resumes), and kills it (SIGKILL) as soon as
        a mark comes back (the 1st to 3rd of the round; a round with none
        in 20 s is the last); then runs it on DIR alone until it exits.
        Prints counts; exits 0 if every event a returned mark covered
        reached OUT, no mark did, every round had a return and the last
        run exited 0
  lbm-marks.py sink OUT
        lbuffer's COMMAND: reads the chunk; if it holds LBUFFER_CHUNK_RECORDS
        events, writes their numbers to OUT/ID.PID and exits 0, else 1.
        A mark in its input is written to OUT/MARK
"""
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import msgpack

MARK_EXT = 108


def mark(mid, seq, path):
    payload = bytes([1]) + mid + struct.pack(">Q", seq) + path.encode()
    return bytes([0xC7, len(payload), MARK_EXT]) + payload


def event(i, tag="t"):
    t = msgpack.ExtType(0, struct.pack(">II", 1700000000 + i, 0))
    return msgpack.packb([tag, t, {"i": i}], use_bin_type=True)


class Producer:
    """A return socket in a private directory, and the marks made."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lbm-marks.")
        self.path = os.path.join(os.path.abspath(self.dir), "r")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.id = os.urandom(16)
        self.seq = 0
        self.made = {}

    def mark(self, value):
        """A new mark; value is what its return means to the caller."""
        self.seq += 1
        b = mark(self.id, self.seq, self.path)
        self.made[b] = (self.seq, value)
        return b

    def returns(self):
        """The (seq, value) of each datagram waiting; None if not ours."""
        got = []
        while True:
            try:
                d = self.sock.recv(4096)
            except BlockingIOError:
                return got
            got.append(self.made.get(d))

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir)


def build(p, spec):
    segs, out, i = [], [], 0
    for item in spec:
        if item == "w":
            segs.append((b"".join(out), p.seq))
            out = []
        elif item == "m":
            out.append(p.mark(i))
        elif item.startswith("e"):
            for _ in range(int(item[1:])):
                i += 1
                out.append(event(i))
        else:
            sys.exit("lbm-marks.py: bad SPEC item %r" % item)
    segs.append((b"".join(out), p.seq))
    return segs


def log_returns(p, log, seen):
    for r in p.returns():
        line = "returned %s\n" % (r[0] if r else "bad")
        log.write(line)
        log.flush()
        if r:
            seen.add(r[0])


def cmd_feed(a):
    k = a.index("--")
    logname, spec, cmd = a[0], a[1:k], a[k + 1:]
    p = Producer()
    seen = set()
    try:
        segs = build(p, spec)
        with open(logname, "a") as log:
            if len(segs) == 1:
                f = tempfile.TemporaryFile()
                f.write(segs[0][0])
                f.seek(0)
                proc = subprocess.Popen(cmd, stdin=f)
            else:
                proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
                for n, (data, seq) in enumerate(segs):
                    proc.stdin.write(data)
                    proc.stdin.flush()
                    if n == len(segs) - 1:
                        break
                    end = time.time() + 20
                    while (time.time() < end and proc.poll() is None and
                           seq not in seen):
                        log_returns(p, log, seen)
                        time.sleep(0.01)
                proc.stdin.close()
            end = time.time() + 120
            while proc.poll() is None and time.time() < end:
                log_returns(p, log, seen)
                time.sleep(0.01)
            if proc.poll() is None:
                proc.kill()
            rc = proc.wait()
            log_returns(p, log, seen)
    finally:
        p.close()
    sys.exit(rc)


def lbuffer(d, out, opts, stdin):
    sink = [sys.executable, os.path.abspath(__file__), "sink", out]
    return subprocess.Popen(["lbuffer", "--dir", d] + opts + ["--"] + sink,
                            stdin=stdin)


def round_(d, out, opts, p, pos, rng):
    """One run of lbuffer, killed after a return: the new position."""
    proc = lbuffer(d, out, opts, subprocess.PIPE)
    want = rng.randint(1, 3)
    got = 0
    i = pos
    end = time.time() + 20
    try:
        while got < want and time.time() < end:
            if i - pos < 3000:
                n = rng.randint(1, 150)
                data = b"".join(event(i + k + 1) for k in range(n))
                i += n
                proc.stdin.write(data + p.mark(i))
                proc.stdin.flush()
            for r in p.returns():
                if r is None:
                    sys.exit("lbm-marks.py: a datagram that is no mark made")
                got += 1
                pos = max(pos, r[1])
            if got < want:
                time.sleep(0.002 if i - pos < 3000 else 0.01)
    except BrokenPipeError:
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    return pos, got


def delivered(out):
    got = set()
    for name in os.listdir(out):
        if name == "MARK" or name.endswith(".tmp"):
            continue
        with open(os.path.join(out, name)) as f:
            got.update(int(x) for x in f.read().split())
    return got


def cmd_crash(a):
    k = a.index("--")
    d, out, rounds, seed = a[0], a[1], int(a[2]), int(a[3])
    opts = a[k + 1:]
    rng = random.Random(seed)
    p = Producer()
    pos = 0
    dry = 0
    done = 0
    try:
        for _ in range(rounds):
            done += 1
            pos, got = round_(d, out, opts, p, pos, rng)
            if got == 0:
                dry += 1
                break
        rc = lbuffer(d, out, opts, subprocess.DEVNULL).wait(timeout=120)
    finally:
        p.close()
    # the sinks of killed runs end on their own, once their input ends
    end = time.time() + 30
    while (any(n.endswith(".tmp") for n in os.listdir(out)) and
           time.time() < end):
        time.sleep(0.05)
    got = delivered(out)
    missing = [i for i in range(1, pos + 1) if i not in got]
    marked = os.path.exists(os.path.join(out, "MARK"))
    print("rounds %d, marks made %d, events covered by returns %d, "
          "delivered %d distinct, missing %d, rounds without a return %d, "
          "last run exit %d%s" % (done, p.seq, pos, len(got), len(missing),
                                  dry, rc, ", a mark reached the COMMAND"
                                  if marked else ""))
    if missing:
        print("missing: %s" % " ".join(str(i) for i in missing[:20]))
    sys.exit(0 if not missing and not dry and rc == 0 and pos > 0 and
             not marked else 1)


def cmd_sink(a):
    out = a[0]
    name = os.path.join(out, "%s.%d" % (os.environ["LBUFFER_CHUNK_ID"],
                                       os.getpid()))
    open(name + ".tmp", "w").close()
    try:
        u = msgpack.Unpacker(raw=False, strict_map_key=False)
        u.feed(sys.stdin.buffer.read())
        nums = []
        for o in u:
            if isinstance(o, msgpack.ExtType) and o.code == MARK_EXT:
                open(os.path.join(out, "MARK"), "w").close()
            elif isinstance(o, list) and len(o) == 3:
                nums.append(o[2]["i"])
    except Exception:
        nums = None
    if nums is None or len(nums) != int(os.environ["LBUFFER_CHUNK_RECORDS"]):
        os.unlink(name + ".tmp")
        sys.exit(1)
    with open(name + ".tmp", "w") as f:
        f.write(" ".join(str(i) for i in nums) + "\n")
    os.rename(name + ".tmp", name)


def main():
    a = sys.argv[1:]
    if a and a[0] == "feed":
        cmd_feed(a[1:])
    elif a and a[0] == "crash":
        cmd_crash(a[1:])
    elif a and a[0] == "sink":
        cmd_sink(a[1:])
    else:
        sys.exit("usage: lbm-marks.py feed|crash|sink ...")


main()
