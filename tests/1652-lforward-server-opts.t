#!/bin/sh
# lforward per-server settings: HOST:PORT,name=,shared_key=,username=,
# password= (name: the TLS verify name and the label in messages)
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 14

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
count() { $PY "$FWD" decode <"$T/$1.out" | wc -l | tr -d ' '; }
$PY "$FWD" events 2000 lf.opts >"$T/ev.bin"
HB="--heartbeat none --retry-wait 50ms"

start a --shared-key ka --self-hostname recv-a
start b --shared-key kb --self-hostname recv-b --user alice:pw1
check_exit 'two servers, each its own shared_key (and a user for one): exit 0' 0 \
	'lforward $HB --ack --chunk-limit-records 100 127.0.0.1:$p_a,shared_key=ka \
		127.0.0.1:$p_b,shared_key=kb,username=alice,password=pw1 <"$T/ev.bin"'
check_err 'a wrong per-server key: refused, the server named by name=' 4 \
	'lforward $HB --retry-max-times 0 127.0.0.1:$p_a,shared_key=wrong,name=alpha <"$T/ev.bin"' \
	'alpha: '
check_err 'a per-server key over --shared-key: refused when wrong' 4 \
	'lforward $HB --retry-max-times 0 --shared-key ka 127.0.0.1:$p_a,shared_key=kb <"$T/ev.bin"' \
	'not delivered'
check_exit '--shared-key for one, shared_key= for the other: exit 0' 0 \
	'lforward $HB --ack --chunk-limit-records 100 --shared-key ka 127.0.0.1:$p_a \
		127.0.0.1:$p_b,username=alice,password=pw1,shared_key=kb <"$T/ev.bin"'
check_err 'a wrong per-server password: refused' 4 \
	'lforward $HB --retry-max-times 0 127.0.0.1:$p_b,shared_key=kb,username=alice,password=no <"$T/ev.bin"' \
	'authentication failed'
check_exit '--username and --password with shared_key= (no --shared-key): exit 0' 0 \
	'lforward $HB --ack --username alice --password pw1 127.0.0.1:$p_b,shared_key=kb <"$T/ev.bin"'
stop a; stop b
check 'both got events, and 6000 in all' \
	'test $(count a) -gt 0 && test $(count b) -gt 0 && test $(($(count a) + $(count b))) -eq 6000'

check_err 'name= labels a server in messages' 4 \
	'lforward $HB --retry-max-times 0 127.0.0.1:1,name=dead-one <"$T/ev.bin"' \
	'dead-one: unable to connect'
check_err 'username= without a shared key: usage error' 2 \
	'lforward 127.0.0.1:1,username=u </dev/null' 'need shared_key='
check_err '--username, and a server without a shared key: usage error' 2 \
	'lforward --username u 127.0.0.1:1,shared_key=k 127.0.0.1:2,name=nokey </dev/null' \
	'shared_key= for nokey'
check_err 'an empty name=: usage error' 2 \
	'lforward 127.0.0.1:1,name= </dev/null' 'empty'
check_err 'an unknown server option: usage error' 2 \
	'lforward 127.0.0.1:1,colour=red </dev/null' "bad server option 'colour=red'"

# name= is the name the server certificate must carry
tls_ca
tls_cert server recv.example 'DNS:recv.example'
start t --cert "$T/server.pem" --key "$T/server.key"
check_exit '--tls: name= is the verify name (the certificate is for recv.example)' 0 \
	'lforward $HB --tls --ca-file "$T/ca.pem" 127.0.0.1:$p_t,name=recv.example <"$T/ev.bin"'
check_err '--tls: without name= the address is checked, and fails' 4 \
	'lforward $HB --retry-max-times 0 --tls --ca-file "$T/ca.pem" 127.0.0.1:$p_t <"$T/ev.bin"' \
	'TLS handshake failed'
stop t
