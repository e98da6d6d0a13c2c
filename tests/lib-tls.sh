# lib-tls.sh - what the tests of the TLS options share (sourced after
# lib.sh, once tls_certs made the certificates): a TLS 1.2 server in python
PY=/usr/bin/python3

# tls12_start NAME CIPHERS: a TLS 1.2-only server (python ssl) with the
# certificate $T/server.pem and the cipher list CIPHERS, on a free port
# ($tport, and in $T/NAME.port); for each connection it writes the
# version, the cipher and the byte count it read, or "error" and why, to
# $T/NAME.out.  tls12_stop NAME: stop it.
tls12_start() {
	cat >"$T/tls12.py" <<'EOF'
import socket, ssl, sys, threading
cert, key, portfile, ciphers = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers(ciphers)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
ls.settimeout(60)
open(portfile, "w").write("%d\n" % ls.getsockname()[1])
def serve(c):
    c.settimeout(10)
    try:
        s = ctx.wrap_socket(c, server_side=True)
        n = 0
        while True:
            d = s.recv(65536)
            if not d:
                break
            n += len(d)
        print(s.version(), s.cipher()[0], n, flush=True)
    except Exception as e:
        print("error", e, flush=True)
    c.close()
while True:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
	rm -f "$T/$1.port"
	$PY "$T/tls12.py" "$T/server.pem" "$T/server.key" "$T/$1.port" "$2" \
		>"$T/$1.out" 2>"$T/$1.err" &
	echo $! >"$T/$1.pid"
	wait_for "test -s '$T/$1.port'" || echo "# the TLS server did not start"
	tport=$(cat "$T/$1.port")
}
tls12_stop() {
	kill "$(cat "$T/$1.pid")" 2>/dev/null
	wait "$(cat "$T/$1.pid")" 2>/dev/null || :
}
