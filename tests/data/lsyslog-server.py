#!/usr/bin/python3
"""lsyslog-server.py - a syslog receiver for the lsyslog tests (Python's
standard library only, not lkit's code).

  lsyslog-server.py MODE PORTFILE [options]

MODE is tcp, tls or udp.  It listens on 127.0.0.1, a free port, which it
writes to PORTFILE once it listens; then it takes connections one after
the other (tcp, tls) or datagrams (udp) until --seconds pass (default 30)
or it is killed.  Its log, on stdout, flushed line by line:

  conn N            connection N was accepted (from 1)
  msg TEXT          a message, TEXT as Python's ascii() of its bytes
                    without the quotes; for tcp and tls split by --framing
  bad WHAT          bytes that do not follow the framing
  dropped N         the first connection was closed by --drop after N
                    messages
  eof N             connection N ended (the client closed it)

Options:
  --framing octet|newline   how messages are split (default octet)
  --drop K                  close the first connection after K messages
  --silent                  accept and never read (tcp)
  --once                    take one connection only: with --drop, stop
                            listening before that connection is closed
  --cert FILE --key FILE    the server certificate (tls)
  --client-ca FILE          require a client certificate signed by it (tls)
  --port N                  listen on port N instead of a free one
  --capture FILE            append every byte received (of every
                            connection, datagrams each with a newline)
  --seconds S
"""
import os
import socket
import ssl
import sys
import time


def log(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def show(b):
    return ascii(b.decode("utf-8", "surrogateescape"))[1:-1]


class Splitter:
    """Messages out of a byte stream, by octet counting or newlines."""

    def __init__(self, framing):
        self.framing = framing
        self.buf = b""

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            if self.framing == "newline":
                k = self.buf.find(b"\n")
                if k < 0:
                    break
                out.append(self.buf[:k])
                self.buf = self.buf[k + 1:]
                continue
            sp = self.buf.find(b" ")
            if sp < 0:
                break
            head = self.buf[:sp]
            if not head.isdigit() or head.startswith(b"0"):
                log("bad octet count %s" % show(self.buf[:20]))
                self.buf = b""
                break
            n = int(head)
            if len(self.buf) < sp + 1 + n:
                break
            out.append(self.buf[sp + 1:sp + 1 + n])
            self.buf = self.buf[sp + 1 + n:]
        return out


def opts(a):
    o = {"--framing": "octet", "--seconds": "30"}
    while a:
        if a[0] in ("--silent", "--once"):
            o[a[0]] = True
            a = a[1:]
        else:
            o[a[0]] = a[1]
            a = a[2:]
    return o


def write_port(path, port):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(path + ".tmp", path)


def serve_conn(c, k, o, cap, end):
    """Reads connection k to its end; returns False if time ran out."""
    sp = Splitter(o["--framing"])
    msgs = 0
    drop = int(o.get("--drop", -1)) if k == 1 else -1
    while time.time() < end:
        c.settimeout(max(0.05, min(1.0, end - time.time())))
        try:
            data = c.recv(65536)
        except socket.timeout:
            continue
        except (OSError, ssl.SSLError):
            data = b""
        if not data:
            log("eof %d" % k)
            return True
        if cap:
            cap.write(data)
            cap.flush()
        for m in sp.feed(data):
            log("msg " + show(m))
            msgs += 1
            if msgs == drop:
                if "--once" in o:
                    o["listener"].close()
                c.close()
                log("dropped %d" % msgs)
                return True
    return False


def stream(mode, o, cap, end):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if "--silent" in o:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ls.bind(("127.0.0.1", int(o.get("--port", 0))))
    ls.listen(8)
    ctx = None
    if mode == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(o["--cert"], o["--key"])
        if "--client-ca" in o:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(o["--client-ca"])
    write_port(o["PORTFILE"], ls.getsockname()[1])
    o["listener"] = ls
    k = 0
    held = []
    while time.time() < end and not (k and "--once" in o):
        ls.settimeout(max(0.05, min(1.0, end - time.time())))
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        k += 1
        log("conn %d" % k)
        if "--silent" in o:
            held.append(c)
            continue
        if ctx:
            try:
                c.settimeout(5)
                c = ctx.wrap_socket(c, server_side=True)
            except (OSError, ssl.SSLError) as e:
                log("tls failed %s" % type(e).__name__)
                c.close()
                continue
        if not serve_conn(c, k, o, cap, end):
            break
        try:
            c.close()
        except OSError:
            pass


def dgrams(o, cap, end):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("127.0.0.1", int(o.get("--port", 0))))
    write_port(o["PORTFILE"], s.getsockname()[1])
    while time.time() < end:
        s.settimeout(max(0.05, min(1.0, end - time.time())))
        try:
            data = s.recv(70000)
        except socket.timeout:
            continue
        if cap:
            cap.write(data + b"\n")
            cap.flush()
        log("msg " + show(data))


def main():
    mode = sys.argv[1]
    o = opts(sys.argv[3:])
    o["PORTFILE"] = sys.argv[2]
    end = time.time() + float(o["--seconds"])
    cap = open(o["--capture"], "ab") if "--capture" in o else None
    if mode == "udp":
        dgrams(o, cap, end)
    elif mode in ("tcp", "tls"):
        stream(mode, o, cap, end)
    else:
        sys.exit("lsyslog-server.py: unknown mode %r" % mode)


main()
