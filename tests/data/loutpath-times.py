#!/usr/bin/python3
"""loutpath-times.py - events at awkward times for lout --path, and the
names Python's own strftime gives them, to check the names lout works out
once a day, hour or minute across changes of summer time.

  loutpath-times.py stream
        write the events: tag "t", record {"i": k}, times every 7 minutes
        and the seconds next to each change of summer time in 2017 in
        America/New_York, Australia/Lord_Howe (a 30-minute change) and
        Asia/Kathmandu (+05:45) and next to local midnights, in an order
        shuffled with a fixed seed, then the same times sorted
  loutpath-times.py check TREE TZ TEMPLATE
        read every file under TREE (JSON lines); each event k must be in
        TREE/TEMPLATE expanded for its time in TZ (a zone name or
        +HH:MM); prints "N events where they belong", or what is wrong
"""
import datetime
import json
import os
import random
import struct
import sys
import zoneinfo

import msgpack

CHANGES = [1489302000, 1509858000,      # New York, 2017
           1491060600, 1506785400, 1491064200, 1506783600,  # Lord Howe
           1502841600, 1502841600 - 20700]  # midnights, UTC and Kathmandu


def times():
    ts = []
    for c in CHANGES:
        ts += [c - 86400, c - 3601, c - 3600, c - 61, c - 60, c - 1, c,
               c + 1, c + 59, c + 60, c + 3599, c + 3600, c + 86399]
        ts += range(c - 2 * 86400, c + 2 * 86400, 420)
    ts = sorted(set(ts))
    mixed = list(ts)
    random.Random(7).shuffle(mixed)
    return mixed + ts


def stream():
    out = sys.stdout.buffer
    for k, t in enumerate(times()):
        et = msgpack.ExtType(0, struct.pack(">II", t, 0))
        out.write(msgpack.packb(["t", et, {"i": k}], use_bin_type=True))


def zone(tz):
    if tz[0] in "+-":
        h, m = int(tz[1:3]), int(tz[4:6])
        d = datetime.timedelta(hours=h, minutes=m)
        return datetime.timezone(-d if tz[0] == "-" else d)
    return zoneinfo.ZoneInfo(tz)


def check(tree, tz, template):
    z = zone(tz)
    ts = times()
    seen = 0
    bad = []
    for d, _, names in os.walk(tree):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                for line in f.read().split(b"\n")[:-1]:
                    k = json.loads(line)["i"]
                    dt = datetime.datetime.fromtimestamp(ts[k], z)
                    want = os.path.join(tree, dt.strftime(template))
                    seen += 1
                    if want != p:
                        bad.append("event %d (%d) in %s, not %s" %
                                   (k, ts[k], p, want))
    if seen != len(ts):
        bad.append("%d events of %d" % (seen, len(ts)))
    print("\n".join(bad[:5]) if bad else "%d events where they belong" %
          seen)


if sys.argv[1] == "stream":
    stream()
else:
    check(*sys.argv[2:5])
