#!/bin/sh
# lsyslog over TLS (RFC 5425): the server certificate checked against
# --tls-ca and the host name or --tls-verify-name, or not with
# --tls-insecure; a client certificate with --tls-cert and --tls-key
. "${0%/*}/lib.sh"
. "${0%/*}/lib-syslog.sh"
plan 11

# a CA, a server certificate for 127.0.0.1 and localhost, a client one
tls_certs
awk 'BEGIN { for (i = 1; i <= 5000; i++) printf "{\"message\":\"m%d\"}\n", i }' |
	lcat tls.test >"$T/ev.bin"
LS="timeout -k 2 60 lsyslog --retry-max-times 0 --connect-timeout 5s"
SCERT="--cert $T/server.pem --key $T/server.key"

srv a tls $SCERT
check_exit '--tls-ca: 5000 events over TLS, exit 0' 0 \
	'$LS --tls-ca "$T/ca.pem" tls:127.0.0.1:$sport <"$T/ev.bin"'
check_exit 'a host name the certificate carries: exit 0' 0 \
	'$LS --tls-ca "$T/ca.pem" tls:localhost:$sport <"$T/ev.bin"'
check_err 'an unknown CA is refused, exit 4' 4 \
	'$LS --tls-ca "$T/client.pem" tls:127.0.0.1:$sport <"$T/ev.bin"' \
	'TLS handshake failed'
check_err 'a wrong --tls-verify-name is refused, exit 4' 4 \
	'$LS --tls-ca "$T/ca.pem" --tls-verify-name other.example tls:127.0.0.1:$sport <"$T/ev.bin"' \
	'TLS handshake failed'
check_exit '--tls-insecure skips the check' 0 \
	'$LS --tls-insecure tls:127.0.0.1:$sport <"$T/ev.bin"'
wait_for 'test $(grep -c "^eof" "$T/a.log") -ge 3'
srv_stop a
check_out 'every message of the three runs arrived, once each' \
	'grep "^msg" "$T/a.log" | sed "s/.* //" | sort | uniq -c |
	 awk "{ print \$1 }" | sort | uniq -c | tr -s " "' ' 5000 3'
check 'the bytes are octet-counted RFC 5424' \
	'head -c 90 "$T/a.cap" | grep -Eq "^[0-9]+ <14>1 [0-9T:.-]+Z [^ ]+ tls.test - - - m1[0-9]+ <14>"'

srv b tls $SCERT --client-ca "$T/ca.pem"
check_exit 'a client certificate with --tls-cert and --tls-key: exit 0' 0 \
	'$LS --tls-ca "$T/ca.pem" --tls-cert "$T/client.pem" --tls-key "$T/client.key" tls:127.0.0.1:$sport <"$T/ev.bin"'
wait_for 'grep -q "^eof" "$T/b.log"'
srv_stop b
check_out 'the server that asks for one got every message' \
	'grep -c "^msg" "$T/b.log"' 5000

check_err 'a key that does not match the certificate: exit 2' 2 \
	'$LS --tls-ca "$T/ca.pem" --tls-cert "$T/client.pem" --tls-key "$T/server.key" tls:127.0.0.1:1 <"$T/ev.bin"' \
	'unable to load the client certificate'
srv c tcp
check_err 'TLS to a plain TCP server: the handshake fails, exit 4' 4 \
	'$LS --tls-ca "$T/ca.pem" --connect-timeout 1s tls:127.0.0.1:$sport <"$T/ev.bin"' \
	'tls:127.0.0.1:'
srv_stop c
