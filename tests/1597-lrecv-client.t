#!/bin/sh
# lrecv --client and --allow-anonymous-source (Fluentd's
# <security><client>): a shared key and users per client network
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
PEER="$DATA/fwdpeer.py"
FWD="$DATA/fwd.py"
plan 14

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
OK='printf "%s\n" "HELO keepalive=True auth=16" "PONG true host=recv.example digest=ok" "reply {'"'ack'"': '"'auth-chunk\\\\n'"'}"'
no() { printf '%s\n' "HELO keepalive=True auth=16" "PONG false $1"; }
SK="--shared-key global --self-hostname recv.example"

start key $SK --client 10.0.0.0/8,shared_key=ten \
	--client 127.0.0.0/8,shared_key=loop
check_same 'a client in a --client network uses its shared_key' \
	'$PY "$PEER" auth $port loop sender.example' "$OK"
check_same 'and not the global one' \
	'$PY "$PEER" auth $port global sender.example' 'no "shared_key mismatch"'
check_same 'nor the key of another network' \
	'$PY "$PEER" auth $port ten sender.example' 'no "shared_key mismatch"'
stop key

start first $SK --client 127.0.0.1,shared_key=first \
	--client 127.0.0.0/8,shared_key=second --client ::1/128,shared_key=v6
check_same 'the first matching --client wins' \
	'$PY "$PEER" auth $port first sender.example' "$OK"
stop first

start anon $SK --client 10.0.0.0/8,shared_key=ten
check_same 'a client in no --client network: the global key (anonymous allowed)' \
	'$PY "$PEER" auth $port global sender.example' "$OK"
stop anon

start deny $SK --client 10.0.0.0/8 --allow-anonymous-source no
check_same '--allow-anonymous-source no: others are refused as Fluentd does' \
	'$PY "$PEER" auth $port global sender.example' \
	"no \"anonymous source host '127.0.0.1' denied\""
stop deny
check 'and it is logged' \
	'grep -q "handshake refused: anonymous source host .127.0.0.1. denied" "$T/deny.err"'

start listed $SK --client 127.0.0.0/8 --allow-anonymous-source no
check_same '--allow-anonymous-source no: a listed client passes, the global key' \
	'$PY "$PEER" auth $port global sender.example' "$OK"
stop listed

start users $SK --user alice:pa --user bob:pb --client 127.0.0.0/8,users=bob
check_same 'users=: a listed user passes' \
	'$PY "$PEER" auth $port global sender.example bob pb' "$OK"
check_same 'users=: another --user is refused from that network' \
	'$PY "$PEER" auth $port global sender.example alice pa' \
	'no "username/password mismatch"'
stop users

start lf $SK --client 127.0.0.0/8,shared_key=edge
$PY "$FWD" events 50 lf.client >"$T/ev.bin"
check_exit 'lforward with the per-client key: acked, exit 0' 0 \
	'lforward --heartbeat none --retry-max-times 0 --ack --shared-key edge \
	 --self-hostname edge.example 127.0.0.1:$port <"$T/ev.bin"'
stop lf
check_same 'its 50 events were written' \
	'$PY "$FWD" decode <"$T/lf.out" | wc -l | tr -d " "' 'echo 50'

check_err 'a host name is not a network: usage error' 2 \
	'lrecv $SK --client edge.example.com,shared_key=x' \
	"bad network 'edge.example.com' for --client"
check_err 'users= must name --user users' 2 \
	'lrecv $SK --user alice:pa --client 10.0.0.0/8,users=carol' \
	"user 'carol' of --client users= is not a --user"
