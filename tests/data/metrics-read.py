#!/usr/bin/env python3
# metrics-read.py DIR SECONDS STOPFILE: reads every DIR/*.prom over and over
# until STOPFILE exists (at most SECONDS), parsing each read as a whole
# Prometheus text file holding lkit's five counters.  Prints the number of good
# reads and the distinct values of lkit_events_in_total seen per file;
# exits 1 at the first read that is not a whole, valid file.
import os, re, sys, time

FAMS = ["lkit_events_in_total", "lkit_events_out_total",
        "lkit_events_dropped_total", "lkit_bytes_in_total",
        "lkit_bytes_out_total"]
SAMPLE = re.compile(r'^([a-z_]+)\{program="([a-z]+)",pipeline="((?:[^"\\\n]|\\.)*)"(,[a-z]+="[^"\\\n]*")?\} ([0-9.e+]+)$')


def parse(text):
    """lkit's five counters in a whole file (summed over reason=, and
    with HELP and TYPE before every family's samples), or raises
    ValueError."""
    if not text.endswith("\n"):
        raise ValueError("does not end in a newline")
    vals, helped, typed = {}, set(), set()
    for s in text.split("\n")[:-1]:
        if s.startswith("# HELP "):
            helped.add(s.split(" ")[2])
            continue
        if s.startswith("# TYPE "):
            typed.add(s.split(" ")[2])
            continue
        m = SAMPLE.match(s)
        if not m:
            raise ValueError("bad sample: %r" % s)
        f = re.sub(r'_(bucket|sum|count)$', '', m.group(1))
        if f not in helped or f not in typed:
            raise ValueError("no HELP or TYPE before " + s)
        if m.group(1) in FAMS:
            vals[m.group(1)] = vals.get(m.group(1), 0) + int(m.group(5))
    for f in FAMS:
        if f not in vals:
            raise ValueError("no " + f)
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
