#!/usr/bin/python3
"""fwd.py - an independent Forward-protocol peer for the tests, built on
Debian's python3-msgpack (not on lkit's code).

  fwd.py shapes        write one stream holding every carrier shape
  fwd.py decode        read a stream on stdin, print one line per event:
                       SEC.NSEC<TAB>TAG<TAB>JSON (keys in order)
  fwd.py events N TAG  write N Message-mode events {"i": k, "pad": ...}
"""
import gzip
import json
import struct
import sys

import msgpack


def et(sec, nsec):
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))


def entry_stream(entries):
    return b"".join(msgpack.packb(e, use_bin_type=True) for e in entries)


def shapes(out):
    p = lambda o: out.write(msgpack.packb(o, use_bin_type=True))
    ents = [[et(1502880723, 1), {"k": "a"}], [1502880724, {"k": b"b"}]]
    p(["s.message", et(1502880723, 309664000), {"json": "message"}])
    p(["s.message4", 1502880723, {"n": 1}, {"chunk": "c1"}])
    p(None)  # heartbeat
    p(["s.float", 1502880723.25, {"f": 1.5}])
    p(["s.forward", ents])
    p(["s.forward3", ents, {"chunk": "c2", "size": 2}])
    p(["s.packed_bin", entry_stream(ents), {"size": 2}])
    # str entries, as Fluentd's out_forward writes them (str32)
    raw = entry_stream(ents)
    out.write(b"\x93" + msgpack.packb("s.packed_str32")
              + b"\xdb" + struct.pack(">I", len(raw)) + raw
              + msgpack.packb({"size": 2, "compressed": "text"}))
    gz = gzip.compress(raw[:5], mtime=0) + gzip.compress(raw[5:], mtime=0)
    p(["s.gzip", gz, {"size": 2, "compressed": "gzip"}])
    # Fluent Bit v2: [[time, metadata], record]
    p(["s.fluentbit", [[[et(5, 6), {"otlp": 1}], {"v": 2}]]])
    # ext8 EventTime, written by hand
    out.write(b"\x93" + msgpack.packb("s.ext8") + b"\xc7\x08\x00"
              + struct.pack(">II", 7, 8) + msgpack.packb({"e": 8}))


def norm(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "surrogateescape")
    if isinstance(v, dict):
        return {norm(k): norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def ttime(t):
    if isinstance(t, list):  # Fluent Bit [time, metadata]
        t = t[0]
    if isinstance(t, msgpack.ExtType):
        return struct.unpack(">II", t.data)
    if isinstance(t, float):
        s = int(t)
        return s, int(round((t - s) * 1e9))
    return t, 0


def emit(tag, t, rec):
    if rec is None:
        return
    s, ns = ttime(t)
    print("%d.%09d\t%s\t%s" % (s, ns, norm(tag), json.dumps(
        norm(rec), separators=(",", ":"), ensure_ascii=False)))


def decode(inp):
    for o in msgpack.Unpacker(inp, raw=True, strict_map_key=False):
        if o is None:
            continue
        tag, second = o[0], o[1]
        if isinstance(second, list):
            for t, rec in second:
                emit(tag, t, rec)
        elif isinstance(second, bytes):
            opt = o[2] if len(o) > 2 else {}
            if opt.get(b"compressed") == b"gzip":
                second = gzip.decompress(second)
            u = msgpack.Unpacker(raw=True, strict_map_key=False)
            u.feed(second)
            for t, rec in u:
                emit(tag, t, rec)
        else:
            emit(tag, second, o[2])


def events(n, tag, out):
    pad = "x" * 40
    for k in range(n):
        out.write(msgpack.packb([tag, et(1502880723 + k, k), {"i": k,
                                 "pad": pad}], use_bin_type=True))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "shapes":
        shapes(sys.stdout.buffer)
    elif cmd == "decode":
        decode(sys.stdin.buffer)
    elif cmd == "events":
        events(int(sys.argv[2]), sys.argv[3], sys.stdout.buffer)
    sys.stdout.flush()
