#!/bin/sh
# lforward --shared-key --heartbeat transport: each heartbeat answers the
# server's HELO with a valid PING and reads the PONG before closing, so the
# server logs no connection closed before PING (in_forward: "handshake
# error expecting PING"); over TLS both handshakes, in order
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 15

$PY "$FWD" events 40 lf.hbkey >"$T/ev.bin"
# idle for 2 s (some 10 heartbeats at 200ms), then 40 events
feed() { sleep 2; cat "$T/ev.bin"; }
LF='lforward --shared-key K --self-hostname client.example
	--heartbeat transport --heartbeat-interval 200ms'

# an in_forward-like server: HELO on every connection, counts early closes
$PY "$DATA/hbsrv.py" K "$T/hb.port" >"$T/hb.out" 2>"$T/hb.err" &
hbpid=$!
wait_for "test -s '$T/hb.port'" || echo "# hbsrv.py did not start"
port=$(cat "$T/hb.port")
check_exit 'lforward --shared-key, heartbeats every 200ms, idle 2 s: exit 0' 0 \
	'feed | $LF 127.0.0.1:$port 2>"$T/lf1.err"'
kill $hbpid; wait $hbpid
val() { sed -n "s/.* $1 \([0-9]*\).*/\1/p; s/^$1 \([0-9]*\).*/\1/p" "$T/hb.out"; }
echo "# hbsrv: $(cat "$T/hb.out")"
check_same 'no connection closed before its PING' 'val early' 'echo 0'
check_same 'no PING had a wrong digest' 'val bad' 'echo 0'
check 'more than 5 heartbeats completed the handshake (PONG sent)' \
	'test "$(val pongs)" -gt 5'
check_same 'the data was delivered after the heartbeats' 'val events' 'echo 40'

# a per-server shared_key= (no --shared-key) does the same
rm -f "$T/hb.port"
$PY "$DATA/hbsrv.py" K2 "$T/hb.port" >"$T/hb.out" 2>"$T/hb.err" &
hbpid=$!
wait_for "test -s '$T/hb.port'" || echo "# hbsrv.py did not start"
port=$(cat "$T/hb.port")
check_exit 'lforward with shared_key= per server, idle 2 s: exit 0' 0 \
	'feed | lforward --self-hostname client.example --heartbeat transport \
		--heartbeat-interval 200ms 127.0.0.1:$port,shared_key=K2 2>"$T/lf4.err"'
kill $hbpid; wait $hbpid
echo "# hbsrv: $(cat "$T/hb.out")"
check_same 'shared_key=: no connection closed before its PING, none bad' \
	'echo $(val early) $(val bad)' 'echo 0 0'
check 'shared_key=: more than 5 heartbeats completed, the data delivered' \
	'test "$(val pongs)" -gt 5 && test "$(val events)" = 40'

# lrecv --shared-key: its log stays free of handshake errors
lrecv_start k --shared-key K --self-hostname recv.example --stats
check_exit 'lforward to lrecv --shared-key, idle 2 s: exit 0' 0 \
	'feed | $LF --ack 127.0.0.1:$p_k 2>"$T/lf2.err"'
lrecv_stop k
check_same 'every event arrived once' \
	'$PY "$FWD" decode <"$T/k.out" | wc -l | tr -d " "' 'echo 40'
check 'the heartbeats reached lrecv: more than 5 connections' \
	'test "$(sed -n "s/.*connections \([0-9]*\).*/\1/p" "$T/k.err")" -gt 5'
check_same 'lrecv logged no handshake refused' \
	'grep -c "handshake refused" "$T/k.err"' 'echo 0'

# over TLS: the TLS handshake, then the Forward one
tls_ca
tls_cert server localhost 'DNS:localhost,IP:127.0.0.1'
lrecv_start t --cert "$T/server.pem" --key "$T/server.key" \
	--shared-key K --self-hostname recv.example --stats
check_exit 'lforward --tls --shared-key to lrecv, idle 2 s: exit 0' 0 \
	'feed | $LF --ack --tls --ca-file "$T/ca.pem" 127.0.0.1:$p_t \
		2>"$T/lf3.err"'
lrecv_stop t
check_same 'over TLS every event arrived once' \
	'$PY "$FWD" decode <"$T/t.out" | wc -l | tr -d " "' 'echo 40'
check_same 'over TLS lrecv logged no TLS or handshake error' \
	'grep -v "connections [0-9]" "$T/t.err" | grep -ciE "tls|ssl|handshake|eof"' \
	'echo 0'
