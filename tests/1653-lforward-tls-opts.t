#!/bin/sh
# lforward's TLS options: --tls-min-version, --tls-ciphers,
# --key-passphrase-file, the --tls-* names lsyslog and lhttp use, and the
# handshake failure message of a server that closes at once
. "${0%/*}/lib.sh"
. "${0%/*}/lib-tls.sh"
FWD="$DATA/fwd.py"
plan 17

# a CA, a server certificate for 127.0.0.1, a client one with an
# encrypted key (passphrase s3cret)
tls_certs
openssl rsa -aes256 -passout pass:s3cret -in "$T/client.key" \
	-out "$T/client.enc.key" 2>/dev/null
echo s3cret >"$T/pass"
echo wrong >"$T/badpass"
$PY "$FWD" events 50 lf.tlsopts >"$T/ev.bin"
HB="--heartbeat none --retry-max-times 0 --connect-timeout 5s"

# a TLS 1.2-only server (python ssl) with a cipher list; it writes the
# version and cipher of each connection, and what it read, to $T/py.out
tls12_start py ECDHE-RSA-AES256-GCM-SHA384
pport=$tport

check_exit 'a TLS 1.2 server: lforward --tls (1.2 and later) delivers' 0 \
	'lforward $HB --tls --ca-file "$T/ca.pem" 127.0.0.1:$pport <"$T/ev.bin"'
check_err '--tls-min-version 1.3 to a TLS 1.2 server: the handshake fails, exit 4' 4 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --tls-min-version 1.3 127.0.0.1:$pport <"$T/ev.bin"' \
	'TLS handshake failed'
check_err '--tls-ciphers with no cipher the server takes: the handshake fails' 4 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --tls-ciphers ECDHE-RSA-AES128-GCM-SHA256 127.0.0.1:$pport <"$T/ev.bin"' \
	'TLS handshake failed'
check_exit '--tls-ciphers with the server'"'"'s cipher, and --tls-min-version 1.2: delivered' 0 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --tls-min-version 1.2 --tls-ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384 127.0.0.1:$pport <"$T/ev.bin"'
tls12_stop py
check_same 'the server saw two TLS 1.2 connections with its cipher, with data' \
	'awk "\$1 != \"error\" && \$3 > 0 { print \$1, \$2 }" "$T/py.out"' \
	'echo "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"; echo "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"'

check_err '--tls-ciphers that names no known cipher: usage error' 2 \
	'lforward --tls --tls-ciphers NO-SUCH-CIPHER 127.0.0.1:1 </dev/null' \
	'no cipher known'
check_err '--tls-min-version 1.1: usage error' 2 \
	'lforward --tls --tls-min-version 1.1 127.0.0.1:1 </dev/null' \
	'--tls-min-version takes 1.2 or 1.3'
check_err '--tls-min-version without --tls: usage error' 2 \
	'lforward --tls-min-version 1.3 127.0.0.1:1 </dev/null' \
	'TLS options need --tls'

# lrecv asks for client certificates: the client key is encrypted
lrecv_start m --cert "$T/server.pem" --key "$T/server.key" --ca-file "$T/ca.pem"
check_exit '--key-passphrase-file with the right passphrase: delivered with --ack' 0 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.enc.key" --key-passphrase-file "$T/pass" --ack 127.0.0.1:$port <"$T/ev.bin"'
check_err 'a wrong passphrase: said, exit 2' 2 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.enc.key" --key-passphrase-file "$T/badpass" 127.0.0.1:$port <"$T/ev.bin"' \
	'wrong passphrase'
check_err 'an encrypted key and no passphrase file: said, exit 2' 2 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.enc.key" 127.0.0.1:$port <"$T/ev.bin"' \
	'encrypted and no passphrase file'
check_err 'a passphrase file that cannot be read: exit 2' 2 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.enc.key" --key-passphrase-file "$T/nothere" 127.0.0.1:$port <"$T/ev.bin"' \
	'unable to open the passphrase file'
check_exit 'the names of lsyslog and lhttp: --tls-ca --tls-cert --tls-key --tls-verify-name' 0 \
	'lforward $HB --tls --tls-ca "$T/ca.pem" --tls-cert "$T/client.pem" --tls-key "$T/client.key" --tls-verify-name localhost --ack 127.0.0.1:$port <"$T/ev.bin"'
check_err '--tls-verify-name checks the name' 4 \
	'lforward $HB --tls --tls-ca "$T/ca.pem" --tls-cert "$T/client.pem" --tls-key "$T/client.key" --tls-verify-name other.example 127.0.0.1:$port <"$T/ev.bin"' \
	'TLS handshake failed'
check_exit '--tls-insecure is --insecure' 0 \
	'lforward $HB --tls --tls-insecure --tls-cert "$T/client.pem" --tls-key "$T/client.key" --ack 127.0.0.1:$port <"$T/ev.bin"'
lrecv_stop m

# a server that reads the ClientHello and closes: the reason is said (the
# old copy of the handshake printed "(null)")
cat >"$T/closer.py" <<'EOF'
import socket, sys
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
ls.settimeout(30)
open(sys.argv[1], "w").write("%d\n" % ls.getsockname()[1])
try:
    while True:
        c, _ = ls.accept()
        c.settimeout(5)
        try:
            c.recv(4096)        # the ClientHello: then a FIN, not a RST
        except OSError:
            pass
        c.close()
except socket.timeout:
    pass
EOF
$PY "$T/closer.py" "$T/cl.port" &
clpid=$!
wait_for "test -s '$T/cl.port'" || echo "# the closing server did not start"
check_err 'a server that closes during the handshake: "the connection was closed"' 4 \
	'lforward $HB --tls --ca-file "$T/ca.pem" 127.0.0.1:$(cat "$T/cl.port") <"$T/ev.bin"' \
	'TLS handshake failed: the connection was closed'
check 'and no "(null)" in the message' '! grep -F "(null)" "$T/.err"'
kill $clpid 2>/dev/null; wait $clpid 2>/dev/null || :
