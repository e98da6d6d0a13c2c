#!/bin/sh
# lhttp's TLS options: --tls-min-version, --tls-ciphers and
# --tls-key-passphrase-file (the files loaded at the start by common/tls)
. "${0%/*}/lib.sh"
. "$DATA/lhttp-lib.sh"
plan 10

tls_certs
openssl rsa -aes256 -passout pass:s3cret -in "$T/client.key" \
	-out "$T/client.enc.key" 2>/dev/null
echo s3cret >"$T/pass"
echo wrong >"$T/badpass"
L="$LH --retry-max-times 0 --tls-ca $T/ca.pem"

# an HTTPS server for TLS 1.2 only, one cipher: it answers 200 and writes
# the version and cipher of each request
cat >"$T/srv.py" <<'PYEOF'
import http.server, ssl, sys
cert, key, portfile = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        print(self.connection.version(), self.connection.cipher()[0],
              flush=True)
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384")
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.timeout = 60
open(portfile, "w").write("%d\n" % s.server_address[1])
s.serve_forever()
PYEOF
$PY "$T/srv.py" "$T/server.pem" "$T/server.key" "$T/p.port" >"$T/p.out" 2>"$T/p.err" &
ppid=$!
wait_for "test -s '$T/p.port'" || echo "# the HTTPS server did not start"
S=https://localhost:$(cat "$T/p.port")/
check_exit 'a TLS 1.2 server: exit 0' 0 "ev e2 | $L $S"
check_err '--tls-min-version 1.3 to it: exit 4' 4 \
	"ev e1 | $L --tls-min-version 1.3 $S" 'unable to send'
check_err '--tls-ciphers with none it takes: exit 4' 4 \
	"ev e1 | $L --tls-ciphers ECDHE-RSA-AES128-GCM-SHA256 $S" 'unable to send'
check_exit '--tls-ciphers with its cipher: exit 0' 0 \
	"ev e1 | $L --tls-ciphers ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256 $S"
kill $ppid 2>/dev/null; wait $ppid 2>/dev/null || :
check_same 'two requests came, TLS 1.2 with its cipher' 'cat "$T/p.out"' \
	'for i in 1 2; do echo "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"; done'

srv_start b --tls "$T/server.pem" "$T/server.key" --client-ca "$T/ca.pem"
S=https://localhost:$(cat "$T/b.port")/
check_exit '--tls-key-passphrase-file: an encrypted client key, exit 0' 0 \
	"ev e3 | $L --tls-cert '$T/client.pem' --tls-key '$T/client.enc.key' \
	 --tls-key-passphrase-file '$T/pass' --tls-min-version 1.3 $S"
srv_stop b
check_out 'the server got them' "show b sizes" 3
check_err 'a wrong passphrase: exit 2 at the start' 2 \
	"lhttp --tls-cert '$T/client.pem' --tls-key '$T/client.enc.key' --tls-key-passphrase-file '$T/badpass' https://a/ </dev/null" \
	'wrong passphrase'
check_err 'an unknown cipher: exit 2' 2 \
	"lhttp --tls-ciphers NOPE https://a/ </dev/null" 'no cipher known'
check_err 'TLS options with http://: exit 2' 2 \
	"lhttp --tls-min-version 1.3 http://a/ </dev/null" 'need an https:// URL'
