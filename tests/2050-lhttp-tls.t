#!/bin/sh
# lhttp over HTTPS: the server's certificate verified by default, --tls-ca,
# --tls-insecure, a client certificate with --tls-cert and --tls-key
. "${0%/*}/lib.sh"
. "$DATA/lhttp-lib.sh"
plan 11

# a CA, a server certificate for 127.0.0.1 and localhost, a client one
tls_certs
check "the certificates" "test -s '$T/server.pem' && test -s '$T/client.pem'"

L="$LH --retry-max-times 0"
srv_start a --tls "$T/server.pem" "$T/server.key"
S=https://localhost:$(cat "$T/a.port")
check_err "an unknown CA: verification fails, exit 4" 4 "ev e1 | $L $S/" \
	"unable to send: "
check_exit "--tls-ca: exit 0" 0 "ev e2 | $L --tls-ca '$T/ca.pem' $S/"
check_exit "--tls-insecure: exit 0" 0 "ev e1 | $L --tls-insecure $S/"
check_out "the server got both runs' events, on HTTPS" "show a sizes" "2 1"
srv_stop a

srv_start b --tls "$T/server.pem" "$T/server.key" --client-ca "$T/ca.pem"
S=https://localhost:$(cat "$T/b.port")
check_err "a client certificate demanded, none given: exit 4" 4 \
	"ev e1 | $L --tls-ca '$T/ca.pem' $S/" "unable to send: "
check_exit "--tls-cert and --tls-key: exit 0" 0 \
	"ev e3 | $L --tls-ca '$T/ca.pem' --tls-cert '$T/client.pem' \
	 --tls-key '$T/client.key' $S/"
check_out "the server got them" "show b sizes" 3
srv_stop b

check_err "--tls-key without --tls-cert: exit 2" 2 \
	"lhttp --tls-key '$T/client.key' https://a/ </dev/null" \
	"--tls-key needs --tls-cert"
check_err "a --tls-ca that cannot be read: exit 2" 2 \
	"lhttp --tls-ca '$T/none.pem' https://a/ </dev/null" \
	"unable to read --tls-ca"
check_err "--tls-insecure with http://: exit 2" 2 \
	"lhttp --tls-insecure http://a/ </dev/null" "need an https:// URL"
