#!/usr/bin/python3
# ltail-rot.py - the log writer and the line counter of the ltail tests.
#
#   write MODE LOG N EVERY [EVENTS]
#       appends N numbered lines of 20 bytes to LOG (O_APPEND, one write
#       per line, about 10000 lines/s) and rotates LOG after every EVERY
#       lines, to LOG.1, LOG.2, ...  MODE:
#         rename        rename, write 50 more lines to the old file (the
#                       application has not reopened yet), then reopen
#         copytruncate  copy LOG to LOG.K, then truncate LOG
#         copysync      as copytruncate, but first wait until EVENTS (the
#                       ltail output, msgpack) holds every line written
#   check OUT N [COPY...]
#       OUT holds one line per event.  Every line 1..N must be there
#       exactly once.  With COPYs (copytruncate): a line may be missing
#       only if a copy holds it and every later line of that copy is
#       missing too (what ltail had not read when the file was truncated).
#       Prints "lost K" and exits 1 on any other difference.
#   offset POS LOG
#       prints the offset the position file POS records for LOG
import os
import shutil
import sys
import time

WIDTH = 20


def line(i):
    return b"%06d ........ end\n" % i


def events_in(path):
    import msgpack
    n = 0
    try:
        with open(path, "rb") as f:
            u = msgpack.Unpacker(f, raw=True)
            for _ in u:
                n += 1
    except (FileNotFoundError, ValueError, msgpack.exceptions.ExtraData):
        pass
    return n


def wait_events(path, k):
    deadline = time.time() + 30
    while time.time() < deadline:
        if events_in(path) >= k:
            return
        time.sleep(0.01)
    sys.exit("ltail-rot.py: timed out waiting for %d events" % k)


def write(mode, log, n, every, events=None):
    def reopen():
        return os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    fd = reopen()
    gen = 0
    i = 1
    while i <= n:
        os.write(fd, line(i))
        if i % 10 == 0:
            time.sleep(0.001)
        if i % every == 0 and i + 50 < n:
            gen += 1
            rotated = "%s.%d" % (log, gen)
            if mode == "rename":
                os.rename(log, rotated)
                for j in range(i + 1, i + 51):
                    os.write(fd, line(j))
                i += 50
                os.close(fd)
                fd = reopen()
            else:
                if mode == "copysync":
                    wait_events(events, i)
                shutil.copyfile(log, rotated)
                os.truncate(log, 0)
        i += 1
    os.close(fd)


def check(out, n, copies):
    got = [int(l.split()[0]) for l in open(out, "rb") if l.strip()]
    seen = set()
    bad = []
    for x in got:
        if x in seen:
            bad.append("line %d twice" % x)
        seen.add(x)
    missing = set(range(1, n + 1)) - seen
    extra = seen - set(range(1, n + 1))
    if extra:
        bad.append("unexpected lines %s" % sorted(extra)[:5])
    lost = 0
    for c in copies:
        nums = [int(l.split()[0]) for l in open(c, "rb") if l.strip()]
        gone = [x in missing for x in nums]
        # the missing lines of a copy must be its tail
        if True in gone and False in gone[gone.index(True):]:
            bad.append("%s: lines missing in the middle" % c)
        lost += sum(gone)
        missing -= set(nums)
    if missing:
        bad.append("%d lines missing, first %d" % (len(missing),
                                                   min(missing)))
    print("lost %d" % lost)
    for b in bad[:10]:
        print(b)
    return 1 if bad else 0


def offset(pos, log):
    off = None
    for l in open(pos):
        p, o, _ = l.rstrip("\n").split("\t")
        if p == log:
            off = int(o, 16)
    print(off)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "write":
        write(a[1], a[2], int(a[3]), int(a[4]), a[5] if len(a) > 5 else None)
    elif a[0] == "check":
        sys.exit(check(a[1], int(a[2]), a[3:]))
    elif a[0] == "offset":
        offset(a[1], a[2])
