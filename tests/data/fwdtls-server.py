#!/usr/bin/env python3
# A strict TLS server for lforward's heartbeat tests: it accepts TLS
# connections on 127.0.0.1, writes its port to PORTFILE, and tells on
# stderr every failed handshake and every close without close_notify.
# On SIGTERM (or after 60 s) it prints
#   connections N handshakes N clean N errors N
# usage: fwdtls-server.py CERT KEY PORTFILE
import signal, socket, ssl, sys, threading, time

cert, key, portfile = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
counts = {"connections": 0, "handshakes": 0, "clean": 0, "errors": 0}
lock = threading.Lock()
stop = [False]

def bump(k):
    with lock:
        counts[k] += 1

def serve(c):
    c.settimeout(10)
    try:
        s = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
    except (ssl.SSLError, OSError) as e:
        bump("errors")
        sys.stderr.write("handshake error: %s\n" % e)
        c.close()
        return
    bump("handshakes")
    try:
        while s.recv(65536):
            pass
        bump("clean")
    except (ssl.SSLError, OSError) as e:
        bump("errors")
        sys.stderr.write("unclean close: %s\n" % e)
    s.close()

def term(sig, frame):
    stop[0] = True

signal.signal(signal.SIGTERM, term)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(64)
ls.settimeout(0.1)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
import os
os.rename(portfile + ".tmp", portfile)
end = time.time() + 60
threads = []
while not stop[0] and time.time() < end:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    bump("connections")
    t = threading.Thread(target=serve, args=(c,))
    t.start()
    threads.append(t)
for t in threads:
    t.join(11)
print("connections %(connections)d handshakes %(handshakes)d clean %(clean)d "
      "errors %(errors)d" % counts, flush=True)
