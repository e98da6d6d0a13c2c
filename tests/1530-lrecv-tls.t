#!/bin/sh
# lrecv and lforward over TLS: server certificates, client certificates,
# hostname checks, with the handshake on top
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 11
if ! command -v openssl >/dev/null; then
	for i in 1 2 3 4 5 6 7 8 9 10 11; do skip "TLS $i" "openssl not installed"; done
	exit 0
fi

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
# a CA, a server certificate for 127.0.0.1 and localhost, a client one
tls_certs
$PY "$FWD" events 20000 lf.tls >"$T/ev.bin"
HB="--heartbeat none --retry-max-times 0"

start s --cert "$T/server.pem" --key "$T/server.key"
hex2bin "$VECTORS/packed_ack.c2s.hex" >"$T/ack.bin"
TLSCLIENT='import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="localhost")
s.sendall(open(sys.argv[3], "rb").read())
print(s.recv(100).hex())'
check_same 'a python TLS client gets the ack, byte for byte' \
	'$PY -c "$TLSCLIENT" $port "$T/ca.pem" "$T/ack.bin"' \
	'tr -d " \n" <"$VECTORS/packed_ack.s2c.hex"; echo'
printf '["tls.json", 1502880723, {"j": 1}, {"chunk": "tj\\n"}]' >"$T/j.json"
check_out 'JSON mode over TLS: the ack in JSON' \
	'$PY -c "$TLSCLIENT" $port "$T/ca.pem" "$T/j.json" | xxd -r -p; echo' \
	'{"ack":"tj\n"}'
check_exit 'lforward --tls --ca-file --ack: 20000 events, exit 0' 0 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --ack --chunk-limit-size 64k 127.0.0.1:$port <"$T/ev.bin"'
check_err 'an unknown CA is refused, exit 4' 4 \
	'lforward $HB --tls --ca-file "$T/client.pem" 127.0.0.1:$port <"$T/ev.bin"' \
	'TLS handshake failed'
check_err 'a wrong --tls-verify-hostname is refused' 4 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --tls-verify-hostname other.example 127.0.0.1:$port <"$T/ev.bin"' \
	'TLS handshake failed'
check_exit '--insecure skips the check' 0 \
	'lforward $HB --tls --insecure 127.0.0.1:$port <"$T/ev.bin"'
check_exit 'plain TCP to a TLS server: no ack, exit 4' 4 \
	'lforward $HB --ack --connect-timeout 1s 127.0.0.1:$port <"$T/ev.bin"'
stop s
check_same 'everything sent over TLS arrived once' \
	'$PY "$FWD" decode <"$T/s.out" | sort | uniq -c | awk "{print \$1}" | sort | uniq -c | tr -s " "' \
	'echo " 3 1"; echo " 20000 2"'

start m --cert "$T/server.pem" --key "$T/server.key" --ca-file "$T/ca.pem" \
	--shared-key s3cr3t --self-hostname recv.example
check_err '--ca-file: a client without a certificate is refused' 4 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --shared-key s3cr3t 127.0.0.1:$port <"$T/ev.bin"' \
	'not delivered'
check_exit '--ca-file: a client certificate, and the shared key inside TLS' 0 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key" --shared-key s3cr3t --ack 127.0.0.1:$port <"$T/ev.bin"'
stop m
check_same 'delivered once' '$PY "$FWD" decode <"$T/m.out" | wc -l | tr -d " "' \
	'echo 20000'
