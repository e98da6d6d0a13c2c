#!/usr/bin/env python3
# metrics-read.py DIR SECONDS STOPFILE: reads every DIR/*.prom over and over
# until STOPFILE exists (at most SECONDS), parsing each read as a whole
# Prometheus text file of lkit's five counters.  Prints the number of good
# reads and the distinct values of lkit_events_in_total seen per file;
# exits 1 at the first read that is not a whole, valid file.
import os, re, sys, time

FAMS = ["lkit_events_in_total", "lkit_events_out_total",
        "lkit_events_dropped_total", "lkit_bytes_in_total",
        "lkit_bytes_out_total"]
SAMPLE = re.compile(r'^([a-z_]+)\{program="([a-z]+)",pipeline="((?:[^"\\\n]|\\.)*)"\} (\d+)$')


def parse(text):
    """The values of a whole file, or raises ValueError."""
    if not text.endswith("\n"):
        raise ValueError("does not end in a newline")
    lines = text.split("\n")[:-1]
    if len(lines) != 3 * len(FAMS):
        raise ValueError("%d lines" % len(lines))
    vals = {}
    for i, f in enumerate(FAMS):
        h, t, s = lines[3 * i:3 * i + 3]
        if not h.startswith("# HELP %s " % f):
            raise ValueError("no HELP for " + f)
        if t != "# TYPE %s counter" % f:
            raise ValueError("no TYPE for " + f)
        m = SAMPLE.match(s)
        if not m or m.group(1) != f:
            raise ValueError("bad sample: %r" % s)
        vals[f] = int(m.group(4))
    return vals


def main():
    d, secs, stop = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    end = time.time() + secs
    reads, seen, last = 0, {}, {}
    while time.time() < end:
        done = os.path.exists(stop)
        for name in sorted(os.listdir(d)):
            if not name.endswith(".prom"):
                continue
            try:
                with open(os.path.join(d, name)) as fp:
                    text = fp.read()
            except FileNotFoundError:
                continue
            try:
                v = parse(text)
            except ValueError as e:
                print("%s: partial or bad read: %s\n%s" % (name, e, text))
                return 1
            for f in FAMS:
                if v[f] < last.get((name, f), 0):
                    print("%s: %s went down" % (name, f))
                    return 1
                last[(name, f)] = v[f]
            seen.setdefault(name, set()).add(v["lkit_events_in_total"])
            reads += 1
        if done:
            break
        time.sleep(0.002)
    print("reads %d" % reads)
    for name in sorted(seen):
        print("%s %d" % (name, len(seen[name])))
    return 0


sys.exit(main())
