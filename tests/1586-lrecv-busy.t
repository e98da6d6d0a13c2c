#!/bin/sh
# lrecv: a connection that keeps it busy does not hold up the acks of the
# others (output is flushed between connections, not only when idle)
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
HOSTILE="$DATA/1580-hostile.py"
plan 4

lrecv --listen 127.0.0.1:0 --port-file "$T/port" >"$T/out" 2>"$T/err" &
pid=$!
wait_for "test -s '$T/port'" || echo "# lrecv did not start"
port=$(cat "$T/port")
hex2bin "$VECTORS/packed_ack.c2s.hex" >"$T/ack.bin"

# a flood of heartbeats for up to 20 s, or until the ack below comes (or
# 15 s pass without it): the ack must come while the flood goes on, not
# once it is over
$PY "$HOSTILE" flood $port "$T/started" "$T/stop" 20 >"$T/flood.out" 2>&1 &
fpid=$!
wait_for "test -e '$T/started'"
check_same 'during a flood on another connection, a request is acked' \
	'$PY "$HOSTILE" ackwait $port "$T/ack.bin" 15 "$T/stop"' \
	'tr -d " \n" <"$VECTORS/packed_ack.s2c.hex"; echo'
wait $fpid
check_out 'the flood went on until then' 'cat "$T/flood.out"' 'stopped'
kill $pid
wait $pid
rc=$?
check_out 'SIGTERM: exit 0' 'echo $rc' 0
check_same 'the events were written' \
	'$PY "$DATA/fwd.py" decode <"$T/out"' '$PY "$DATA/fwd.py" decode <"$T/ack.bin"'
