#!/bin/sh
# lrecv's TLS options: --tls-min-version, --tls-ciphers,
# --key-passphrase-file, --tls-client-name, a CA directory for --ca-file
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 20

tls_ca
tls_cert server localhost 'DNS:localhost,IP:127.0.0.1'
tls_cert client sender.example 'DNS:sender.example'
tls_cert cnonly cn-only.example
openssl rsa -aes256 -passout pass:s3cret -in "$T/server.key" \
	-out "$T/server.enc.key" 2>/dev/null
echo s3cret >"$T/pass"
echo wrong >"$T/badpass"
mkdir "$T/cadir" && cp "$T/ca.pem" "$T/cadir/" && openssl rehash "$T/cadir" 2>/dev/null
$PY "$FWD" events 30 lr.tlsopts >"$T/ev.bin"
HB="--heartbeat none --retry-max-times 0 --connect-timeout 5s"

# sc ARGS: an openssl s_client handshake with lrecv (then EOF); its status
sc() {
	openssl s_client -connect 127.0.0.1:$port -CAfile "$T/ca.pem" \
		-verify_return_error "$@" </dev/null >"$T/sc.out" 2>&1
}

lrecv_start a --cert "$T/server.pem" --key "$T/server.key" --tls-min-version 1.3
check 'lrecv --tls-min-version 1.3: s_client -tls1_2 fails' '! sc -tls1_2'
check 's_client -tls1_3 completes the handshake' 'sc -tls1_3 && grep -q "TLSv1.3" "$T/sc.out"'
lrecv_stop a
check 'the refused handshake is said' 'grep -q "TLS handshake failed" "$T/a.err"'

lrecv_start b --cert "$T/server.pem" --key "$T/server.key"
check 'by default TLS 1.2 is taken' 'sc -tls1_2 && grep -q "TLSv1.2" "$T/sc.out"'
check 'by default TLS 1.1 is not' '! sc -tls1_1'
lrecv_stop b

lrecv_start c --cert "$T/server.pem" --key "$T/server.key" \
	--tls-ciphers ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256
check '--tls-ciphers: a TLS 1.2 cipher not listed is refused' \
	'! sc -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256'
check '--tls-ciphers: a TLS 1.2 cipher listed is taken' \
	'sc -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384'
check '--tls-ciphers: a TLS 1.3 suite not listed is refused' \
	'! sc -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384'
check '--tls-ciphers: a TLS 1.3 suite listed is taken' \
	'sc -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256'
lrecv_stop c
check_err '--tls-ciphers that names no known cipher: usage error' 2 \
	'lrecv --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.key" --tls-ciphers NOPE' \
	'no cipher known'

lrecv_start d --cert "$T/server.pem" --key "$T/server.enc.key" \
	--key-passphrase-file "$T/pass"
check_exit '--key-passphrase-file: an encrypted key loads, lforward --tls --ack delivers' 0 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --ack 127.0.0.1:$port <"$T/ev.bin"'
lrecv_stop d
check_err 'the wrong passphrase: said, exit 2' 2 \
	'lrecv --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.enc.key" --key-passphrase-file "$T/badpass"' \
	'wrong passphrase'
check_err 'an encrypted key with no passphrase file: said, exit 2' 2 \
	'lrecv --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.enc.key" </dev/null' \
	'encrypted and no passphrase file'

lrecv_start e --cert "$T/server.pem" --key "$T/server.key" --ca-file "$T/cadir" \
	--tls-client-name other.example --tls-client-name sender.example
check_exit '--tls-client-name: a client certificate for a listed name is taken (CA directory)' 0 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key" --ack 127.0.0.1:$port <"$T/ev.bin"'
check_exit '--tls-client-name: a certificate for another name is refused' 4 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --cert "$T/cnonly.pem" --key "$T/cnonly.key" --ack 127.0.0.1:$port <"$T/ev.bin"'
lrecv_stop e
check 'lrecv says why' 'grep -q "carries none of the names" "$T/e.err"'

lrecv_start f --cert "$T/server.pem" --key "$T/server.key" --ca-file "$T/ca.pem" \
	--tls-client-name cn-only.example
check_exit '--tls-client-name: the CN of a certificate with no subjectAltName' 0 \
	'lforward $HB --tls --ca-file "$T/ca.pem" --cert "$T/cnonly.pem" --key "$T/cnonly.key" --ack 127.0.0.1:$port <"$T/ev.bin"'
lrecv_stop f
check_same 'every event delivered once (three runs)' \
	'cat "$T/d.out" "$T/e.out" "$T/f.out" | $PY "$FWD" decode | wc -l | tr -d " "' \
	'echo 90'

check_err '--tls-client-name needs --ca-file' 2 \
	'lrecv --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.key" --tls-client-name x' \
	'needs --ca-file'
check_err '--tls-min-version 1.0: usage error' 2 \
	'lrecv --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.key" --tls-min-version 1.0' \
	'takes 1.2 or 1.3'
