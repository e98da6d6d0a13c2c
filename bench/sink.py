#!/usr/bin/python3
# sink.py tcp|http PORTFILE: a local server for make bench that takes
# everything and keeps nothing, on a free loopback port written to
# PORTFILE.  tcp reads and drops bytes; http answers every request 200
# (HTTP/1.1 keep-alive, Content-Length bodies only), a path ending in
# _bulk with an Elasticsearch bulk answer that accepts every item.  Ends on
# SIGTERM.
import socket
import sys
import threading


def drain(c):
    while c.recv(1 << 20):
        pass


def http(c):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(1 << 20)
            if not d:
                return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(buf) < n:
            d = c.recv(1 << 20)
            if not d:
                return
            buf += d
        body, buf = buf[:n], buf[n:]
        if head.split(b" ")[1].endswith(b"_bulk"):
            # an Elasticsearch bulk answer: one item per action line
            k = body.count(b"\n") // 2
            ans = b'{"took":1,"errors":false,"items":[' + b",".join(
                [b'{"index":{"status":201}}'] * k) + b"]}"
        else:
            ans = b""
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(ans) + ans)


def done(fn, c):
    try:
        fn(c)
    finally:
        c.close()


def serve(kind, portfile):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os
    os.rename(portfile + ".tmp", portfile)
    fn = drain if kind == "tcp" else http
    while True:
        c, _ = s.accept()
        threading.Thread(target=done, args=(fn, c), daemon=True).start()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
