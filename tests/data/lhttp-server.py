#!/usr/bin/python3
"""lhttp-server.py - a scripted HTTP server for the lhttp tests, built on
http.server (not on lkit's code).  It records every request and answers
with the statuses it is given.

  lhttp-server.py serve PORTFILE LOG [options]
      listen on a free 127.0.0.1 port (written to PORTFILE), keep-alive
      (HTTP/1.1); append one JSON line per request to LOG: n, conn (the
      connection's number), method, path, headers (names lowercased),
      gzip (whether the body came gzip'd), body (base64 of the body,
      gunzipped), status (the answer); exit after --lifetime seconds
        --status S1,S2,...   statuses of successive requests, the last one
                             repeated (default 200)
        --es                 answer 2xx requests as the Elasticsearch bulk
                             API does: one item per action, status 201
        --es-fail I:S[:K]    the item whose document has "i": I gets status
                             S (429: es_rejected_execution_exception, 400:
                             mapper_parsing_exception, other: an error of
                             that status), its first K times (default:
                             every time)
        --es-garbage N       the first N bulk answers are not JSON
        --user U:P           answer 401 to a request without that basic
                             authentication
        --tls CERT KEY       serve HTTPS
        --client-ca CA       and demand a client certificate signed by CA
        --delay-ms N         wait N ms before each answer
        --port N             listen on port N, not a free one
        --lifetime SECONDS   default 120

  lhttp-server.py show LOG WHAT
      requests      the number of requests
      conns         the number of connections they came on
      inflight      the most requests being answered at once
      statuses      the statuses answered, one line
      header:NAME   the value of header NAME of each request, one a line
                    ("-" when absent)
      methods       the method of each request, one line
      paths         the path (and query) of each request, one a line
      gzip          whether each body came gzip'd, one line (1 or 0)
      bodies        each body, as it came (after gunzip), then a newline
      json          each body read as one JSON value, printed with sorted
                    keys, one a line
      ndjson        each line of each body read as JSON, printed with
                    sorted keys, one a line
      msgpack       each value of each body read as msgpack, printed as
                    JSON with sorted keys, one a line
      sizes         the number of events of each request, one line
                    (ndjson and bulk lines; msgpack values; json arrays)
      es-i          for each bulk request, the "i" of its documents, one
                    line per request
      es-actions    each action line of each bulk request, sorted keys
"""
import base64
import gzip
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgpack

LOCK = threading.Lock()
STATE = {"n": 0, "conn": 0, "seen": {}, "garbage": 0, "inflight": 0}


def parse_args(a):
    o = {"status": [200], "es": False, "fail": {}, "user": None,
         "tls": None, "client_ca": None, "lifetime": 120.0, "garbage": 0,
         "delay": 0.0, "port": 0}
    i = 0
    while i < len(a):
        k = a[i]
        if k == "--status":
            o["status"] = [int(s) for s in a[i + 1].split(",")]
            i += 2
        elif k == "--es":
            o["es"] = True
            i += 1
        elif k == "--es-fail":
            p = a[i + 1].split(":")
            o["fail"][int(p[0])] = (int(p[1]),
                                    int(p[2]) if len(p) > 2 else None)
            i += 2
        elif k == "--es-garbage":
            o["garbage"] = int(a[i + 1])
            i += 2
        elif k == "--user":
            o["user"] = a[i + 1]
            i += 2
        elif k == "--tls":
            o["tls"] = (a[i + 1], a[i + 2])
            i += 3
        elif k == "--client-ca":
            o["client_ca"] = a[i + 1]
            i += 2
        elif k == "--port":
            o["port"] = int(a[i + 1])
            i += 2
        elif k == "--delay-ms":
            o["delay"] = int(a[i + 1]) / 1000.0
            i += 2
        elif k == "--lifetime":
            o["lifetime"] = float(a[i + 1])
            i += 2
        else:
            sys.exit("lhttp-server.py: unknown option %r" % k)
    return o


def es_error(status, i):
    if status == 429:
        return {"type": "es_rejected_execution_exception",
                "reason": "rejected execution of coordinating operation "
                          "[item %d]" % i}
    if status == 400:
        return {"type": "mapper_parsing_exception",
                "reason": "failed to parse field [i] of type [long] in "
                          "document with id 'doc%d'" % i,
                "caused_by": {"type": "illegal_argument_exception",
                              "reason": "For input string: \"x\""}}
    return {"type": "test_exception", "reason": "status %d" % status}


def es_answer(body, opts):
    """The bulk API's answer: one item per action, in order."""
    lines = body.split(b"\n")
    items = []
    errors = False
    k = 0
    while k + 1 < len(lines) and lines[k]:
        action = json.loads(lines[k])
        doc = json.loads(lines[k + 1])
        k += 2
        meta = action.get("index", {})
        i = doc.get("i")
        item = {"_index": meta.get("_index", "default"),
                "_id": meta.get("_id", "auto%d" % len(items)),
                "status": 201}
        if i in opts["fail"]:
            st, times = opts["fail"][i]
            seen = STATE["seen"].get(i, 0)
            STATE["seen"][i] = seen + 1
            if times is None or seen < times:
                item["status"] = st
                item["error"] = es_error(st, i)
                errors = True
        if item["status"] == 201:
            item.update({"_version": 1, "result": "created",
                         "_shards": {"total": 2, "successful": 1,
                                     "failed": 0},
                         "_seq_no": len(items), "_primary_term": 1})
        items.append({"index": item})
    return json.dumps({"took": 3, "errors": errors, "items": items}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with LOCK:
            STATE["conn"] += 1
            self.conn = STATE["conn"]

    def log_message(self, *args):
        pass

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        gz = self.headers.get("Content-Encoding", "") == "gzip"
        if gz:
            body = gzip.decompress(body)
        return body, gz

    def authorized(self):
        u = self.server.opts["user"]
        if not u:
            return True
        want = "Basic " + base64.b64encode(u.encode()).decode()
        return self.headers.get("Authorization") == want

    def answer(self, body):
        opts = self.server.opts
        with LOCK:
            STATE["n"] += 1
            n = STATE["n"]
        st = opts["status"][min(n - 1, len(opts["status"]) - 1)]
        if not self.authorized():
            st = 401
        out = b'{"status":%d}' % st
        if opts["es"] and 200 <= st < 300:
            with LOCK:
                if STATE["garbage"] < opts["garbage"]:
                    STATE["garbage"] += 1
                    out = b"<html>not json</html>"
                else:
                    out = es_answer(body, opts)
        return n, st, out

    def do_any(self):
        body, gz = self.read_body()
        with LOCK:
            STATE["inflight"] += 1
            inflight = STATE["inflight"]
        time.sleep(self.server.opts["delay"])
        n, st, out = self.answer(body)
        with LOCK:
            STATE["inflight"] -= 1
        rec = {"n": n, "conn": self.conn, "method": self.command,
               "inflight": inflight,
               "path": self.path, "gzip": gz, "status": st,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": base64.b64encode(body).decode()}
        with LOCK:
            with open(self.server.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_POST = do_any
    do_PUT = do_any


def serve(a):
    portfile, log = a[0], a[1]
    opts = parse_args(a[2:])
    srv = ThreadingHTTPServer(("127.0.0.1", opts["port"]), Handler)
    srv.daemon_threads = True
    srv.opts = opts
    srv.log = log
    open(log, "a").close()
    if opts["tls"]:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*opts["tls"])
        if opts["client_ca"]:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(opts["client_ca"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Timer(opts["lifetime"], lambda: os._exit(0)).start()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


def dumps(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def es_pairs(body):
    lines = [l for l in body.split(b"\n") if l]
    return [(json.loads(lines[k]), json.loads(lines[k + 1]))
            for k in range(0, len(lines) - 1, 2)]


def iter_mp(body):
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    u.feed(body)
    return list(u)


def show(log, what):
    reqs = [json.loads(l) for l in open(log) if l.strip()]
    bodies = [base64.b64decode(r["body"]) for r in reqs]
    out = sys.stdout
    if what == "requests":
        print(len(reqs))
    elif what == "conns":
        print(len(set(r["conn"] for r in reqs)))
    elif what == "inflight":
        print(max([r["inflight"] for r in reqs] or [0]))
    elif what == "statuses":
        print(" ".join(str(r["status"]) for r in reqs))
    elif what.startswith("header:"):
        for r in reqs:
            print(r["headers"].get(what[7:].lower(), "-"))
    elif what == "methods":
        print(" ".join(r["method"] for r in reqs))
    elif what == "paths":
        for r in reqs:
            print(r["path"])
    elif what == "gzip":
        print(" ".join("1" if r["gzip"] else "0" for r in reqs))
    elif what == "bodies":
        for b in bodies:
            out.buffer.write(b + b"\n")
    elif what == "json":
        for b in bodies:
            print(dumps(json.loads(b)))
    elif what == "ndjson":
        for b in bodies:
            for l in b.split(b"\n"):
                if l:
                    print(dumps(json.loads(l)))
    elif what == "msgpack":
        for b in bodies:
            for v in iter_mp(b):
                print(dumps(v))
    elif what == "sizes":
        sizes = []
        for r, b in zip(reqs, bodies):
            ct = r["headers"].get("content-type", "")
            if "msgpack" in ct:
                sizes.append(len(iter_mp(b)))
            elif b.startswith(b"["):
                sizes.append(len(json.loads(b)))
            elif b.startswith(b'{"index":'):
                sizes.append(len(es_pairs(b)))
            else:
                sizes.append(len([l for l in b.split(b"\n") if l]))
        print(" ".join(str(s) for s in sizes))
    elif what == "es-i":
        for b in bodies:
            print(" ".join(str(d.get("i")) for _, d in es_pairs(b)))
    elif what == "es-actions":
        for b in bodies:
            for a, _ in es_pairs(b):
                print(dumps(a))
    else:
        sys.exit("lhttp-server.py: unknown WHAT %r" % what)


def main():
    a = sys.argv[1:]
    if a and a[0] == "serve":
        serve(a[1:])
    elif a and a[0] == "show" and len(a) == 3:
        show(a[1], a[2])
    else:
        sys.exit(__doc__)


main()
