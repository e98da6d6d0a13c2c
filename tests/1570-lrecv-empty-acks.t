#!/bin/sh
# lrecv: requests that yield no event still get their ack (in_forward
# acks them), and only once everything before them is written
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
PEER="$DATA/fwdpeer.py"
plan 5

lrecv --listen 127.0.0.1:0 --port-file "$T/a.port" >"$T/a.out" 2>"$T/a.err" &
apid=$!
wait_for "test -s '$T/a.port'"
# no entries, empty packed entries, nil records only (Forward, packed,
# gzip), nil records after an event; a Message with a nil record is
# skipped without an ack, as in_forward does
check_same 'empty and all-nil requests are acked, in order' \
	'$PY "$PEER" empty "$(cat "$T/a.port")"' \
	'printf "%s\n" forward-empty packed-empty forward-nil packed-nil gzip-nil nil-last last'
kill $apid; wait $apid
check_same 'the events among them are written' \
	'$PY "$FWD" decode <"$T/a.out" | cut -f2-' \
	'printf "e.nillast\t{\"k\":\"v\"}\ne.fwd1\t{\"k\":\"w\"}\n"'
check 'nothing logged' 'test ! -s "$T/a.err"'

# stdout is a pipe nobody reads until the client says so: the ack of the
# empty request must wait for the events before it to be written
mkfifo "$T/fifo"
(exec 3<"$T/fifo"; wait_for 'test -e "$T/go"' 150; cat <&3 >"$T/h.out") &
rpid=$!
lrecv --listen 127.0.0.1:0 --port-file "$T/h.port" >"$T/fifo" 2>"$T/h.err" &
hpid=$!
wait_for "test -s '$T/h.port'"
check_out 'the ack waits for the events before it to reach stdout' \
	'$PY "$PEER" held "$(cat "$T/h.port")" "$T/go"' \
	"before: none, after: ['after-events']"
kill $hpid; wait $hpid; wait $rpid
check_same 'and the events were all written' \
	'$PY "$FWD" decode <"$T/h.out" | wc -l | tr -d " "' 'echo 2000'
