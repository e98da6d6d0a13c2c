#!/bin/sh
# lforward --tls --heartbeat transport: each heartbeat completes the TLS
# handshake and closes cleanly, so the TLS server logs no failed handshake
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 8

# a CA and a server certificate for 127.0.0.1 (openssl is a test dependency)
tls_ca
tls_cert server localhost 'DNS:localhost,IP:127.0.0.1'

# a strict TLS server: it tells every failed handshake and unclean close
$PY "$DATA/fwdtls-server.py" "$T/server.pem" "$T/server.key" "$T/py.port" \
	>"$T/py.out" 2>"$T/py.err" &
pypid=$!
wait_for "test -s '$T/py.port'" || echo "# the TLS server did not start"
port=$(cat "$T/py.port")
check_exit 'no input for 2 s, heartbeats every 200ms: exit 0' 0 \
	'sleep 2 | lforward --tls --ca-file "$T/ca.pem" --heartbeat transport \
		--heartbeat-interval 200ms 127.0.0.1:$port'
kill $pypid; wait $pypid
hb=$(sed -n 's/^connections \([0-9]*\).*/\1/p' "$T/py.out")
check 'the server saw more than 5 heartbeat connections' 'test "${hb:-0}" -gt 5'
check_same 'each of them completed the TLS handshake and closed cleanly' \
	'sed "s/connections \([0-9]*\) handshakes \([0-9]*\) clean \([0-9]*\)/\1 \2 \3/" "$T/py.out"' \
	'echo "$hb $hb $hb errors 0"'
check_same 'the server logged no error' 'wc -l <"$T/py.err" | tr -d " "' 'echo 0'

# events trickle in for about 2 s: some 10 heartbeats at 200ms meanwhile
$PY "$FWD" events 40 lf.tlshb >"$T/ev.bin"
feed() {
	$PY -c 'import sys, time
d = open(sys.argv[1], "rb").read()
h = len(d) // 2
sys.stdout.buffer.write(d[:h]); sys.stdout.flush()
time.sleep(2)
sys.stdout.buffer.write(d[h:])' "$T/ev.bin"
}

lrecv_start s --cert "$T/server.pem" --key "$T/server.key" --stats
check_exit 'lforward --tls --heartbeat transport --heartbeat-interval 200ms: exit 0' 0 \
	'feed | lforward --tls --ca-file "$T/ca.pem" --heartbeat transport \
		--heartbeat-interval 200ms --flush-interval 100ms --ack --keepalive \
		127.0.0.1:$port 2>"$T/lf.err"'
lrecv_stop s
check_same 'every event arrived once' \
	'$PY "$FWD" decode <"$T/s.out" | wc -l | tr -d " "' 'echo 40'
check 'the heartbeats reached lrecv: more than 5 connections' \
	'test "$(sed -n "s/.*connections \([0-9]*\).*/\1/p" "$T/s.err")" -gt 5'
check_same 'lrecv logged no TLS or handshake error' \
	'grep -v "connections [0-9]" "$T/s.err" | grep -ciE "tls|ssl|handshake|eof"' 'echo 0'
