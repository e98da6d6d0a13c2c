#!/bin/sh
# lsyslog's TLS options from common/tls: --tls-min-version, --tls-ciphers,
# --tls-key-passphrase-file
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 9

tls_certs
openssl rsa -aes256 -passout pass:s3cret -in "$T/client.key" \
	-out "$T/client.enc.key" 2>/dev/null
echo s3cret >"$T/pass"
echo wrong >"$T/badpass"
awk 'BEGIN { for (i = 1; i <= 100; i++) printf "{\"message\":\"m%d\"}\n", i }' |
	lcat tls.opts >"$T/ev.bin"
LS="timeout -k 2 60 lsyslog --retry-max-times 0 --connect-timeout 5s --tls-ca $T/ca.pem"

# a TLS 1.2-only server with one cipher: it writes the version, the
# cipher and the byte count of each connection
cat >"$T/srv.py" <<'PYEOF'
import socket, ssl, sys, threading
cert, key, portfile = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384")
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
PYEOF
$PY "$T/srv.py" "$T/server.pem" "$T/server.key" "$T/py.port" >"$T/py.out" 2>&1 &
pypid=$!
wait_for "test -s '$T/py.port'" || echo "# the TLS server did not start"
sport=$(cat "$T/py.port")

check_exit 'a TLS 1.2 server: exit 0' 0 '$LS tls:127.0.0.1:$sport <"$T/ev.bin"'
check_err '--tls-min-version 1.3: the handshake fails, exit 4' 4 \
	'$LS --tls-min-version 1.3 tls:127.0.0.1:$sport <"$T/ev.bin"' \
	'TLS handshake failed'
check_err '--tls-ciphers with none the server takes: exit 4' 4 \
	'$LS --tls-ciphers ECDHE-RSA-AES128-GCM-SHA256 tls:127.0.0.1:$sport <"$T/ev.bin"' \
	'TLS handshake failed'
check_exit '--tls-ciphers with its cipher: exit 0' 0 \
	'$LS --tls-ciphers ECDHE-RSA-AES256-GCM-SHA384 tls:127.0.0.1:$sport <"$T/ev.bin"'
check_exit '--tls-key-passphrase-file: the encrypted client key loads, exit 0' 0 \
	'$LS --tls-cert "$T/client.pem" --tls-key "$T/client.enc.key" --tls-key-passphrase-file "$T/pass" tls:127.0.0.1:$sport <"$T/ev.bin"'
kill $pypid 2>/dev/null; wait $pypid 2>/dev/null || :
check_same 'three connections got through, TLS 1.2, the cipher, data' \
	'awk "\$1 != \"error\" && \$3 > 0 { print \$1, \$2 }" "$T/py.out"' \
	'for i in 1 2 3; do echo "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"; done'
check_err 'a wrong passphrase: said, exit 2' 2 \
	'$LS --tls-cert "$T/client.pem" --tls-key "$T/client.enc.key" --tls-key-passphrase-file "$T/badpass" tls:127.0.0.1:1 <"$T/ev.bin"' \
	'wrong passphrase'
check_err 'the encrypted key without a passphrase file: exit 2' 2 \
	'$LS --tls-cert "$T/client.pem" --tls-key "$T/client.enc.key" tls:127.0.0.1:1 <"$T/ev.bin"' \
	'encrypted and no passphrase file'
check_err 'TLS options over tcp: usage error' 2 \
	'lsyslog --tls-min-version 1.3 tcp:127.0.0.1:1 </dev/null' \
	'TLS options need a tls: server'
