#!/bin/sh
# lrecv: a connection dies one way only, so clients that quit in the middle
# of the handshake cannot make it use a freed connection
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
PEER="$DATA/fwdpeer.py"
HOSTILE="$DATA/1580-hostile.py"
plan 6

lrecv --listen 127.0.0.1:0 --port-file "$T/port" --shared-key s3cr3t \
	--self-hostname recv.example >"$T/out" 2>"$T/err" &
pid=$!
wait_for "test -s '$T/port'" || echo "# lrecv did not start"
port=$(cat "$T/port")
ACK="reply {'ack': 'auth-chunk\\n'}"

check_out '3000 clients send an event (or a bad PING) without the handshake and quit' \
	'$PY "$HOSTILE" noauth $port 3000' 'done 3000'
check 'lrecv is still up' 'kill -0 $pid'
check_same 'a good client still gets its PONG and its ack' \
	'$PY "$PEER" auth $port s3cr3t sender.example' \
	'printf "%s\n" "HELO keepalive=True auth=16" "PONG true host=recv.example digest=ok" "$ACK"'
kill $pid
wait $pid
rc=$?
check_out 'SIGTERM: exit 0' 'echo $rc' 0
check 'the refusals were logged' \
	'grep -q "handshake refused: invalid ping message" "$T/err"'
check_out 'only the good client'"'"'s events were written' \
	'$PY "$DATA/fwd.py" decode <"$T/out" | cut -f2 | sort | uniq -c | tr -s " "' \
	' 2 t.auth'
