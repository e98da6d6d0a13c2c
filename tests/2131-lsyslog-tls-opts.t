#!/bin/sh
# lsyslog's TLS options from common/tls: --tls-min-version, --tls-ciphers,
# --tls-key-passphrase-file
. "${0%/*}/lib.sh"
. "${0%/*}/lib-tls.sh"
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
tls12_start py ECDHE-RSA-AES256-GCM-SHA384
sport=$tport

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
tls12_stop py
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
