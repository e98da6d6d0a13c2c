#!/usr/bin/env python3
"""syslogin-tls.py PORT CAFILE N: N octet-counted RFC 5424 messages over
TLS (RFC 5425) to lrecv --syslog tls:, "tls I" as their text."""
import socket
import ssl
import sys

port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
raw = socket.create_connection(("127.0.0.1", port), timeout=20)
s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
for i in range(n):
    m = b"<86>1 2026-01-01T00:00:00Z h sshd 9 - - tls %d" % i
    s.sendall(b"%d " % len(m) + m)
# the end of our sending; then read to lrecv's end (its TLS 1.3 session
# tickets too), so that our close sends no reset, which would make the
# kernel drop the messages lrecv has not read yet
s.shutdown(socket.SHUT_WR)
while s.recv(4096):
    pass
s.close()
