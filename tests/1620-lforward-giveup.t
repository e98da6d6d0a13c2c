#!/bin/sh
# lforward: a request no server is available for (every server detached by
# the heartbeats) counts as failing, so retries end and the exit is 4; bad
# server arguments and a missing server are usage errors, said at once
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 16

$PY "$FWD" events 50 lf.gone >"$T/ev.bin"
# nothing listens on port 1; every run is bounded, and after the bound
# it has 100 ms to stop
lf() { timeout -k 2 20 lforward --shutdown-timeout 100ms "$@"; }

check_err 'default heartbeat, dead server, --ack --retry-max-times 1: exit 4' 4 \
	'lf --ack --retry-max-times 1 127.0.0.1:1 <"$T/ev.bin"' \
	'50 of 50 events not delivered'
check 'it says why: retries exhausted while no server was available' \
	'grep -q "giving up a request of 50 events for lf.gone: retries exhausted (no server available)" "$T/.err"'
check_err '--stats: 50 undelivered, after 2 failures' 4 \
	'lf --stats --retry-max-times 1 --retry-wait 50ms 127.0.0.1:1 <"$T/ev.bin"' \
	'delivered 0, undelivered 50, requests 0, retried 2,'
check_err '--retry-max-times 3: given up after the 4th failure, exit 4' 4 \
	'lf --stats --retry-max-times 3 --retry-wait 20ms 127.0.0.1:1 <"$T/ev.bin"' \
	'undelivered 50, requests 0, retried 4,'
check_err 'a short --retry-timeout ends it too, exit 4' 4 \
	'lf --retry-timeout 300ms --retry-wait 50ms 127.0.0.1:1 <"$T/ev.bin"' \
	'50 of 50 events not delivered'
check_err 'a dead --secondary as well: both tried, exit 4' 4 \
	'lf --retry-max-times 1 --retry-wait 20ms --secondary 127.0.0.1:1 127.0.0.1:1 <"$T/ev.bin"' \
	'the secondary failed too'

# requests sealed after the server was detached (no request had failed)
mkfifo "$T/in"
lf --retry-max-times 1 --retry-wait 50ms --hard-timeout 300ms \
	--heartbeat-interval 100ms 127.0.0.1:1 <"$T/in" 2>"$T/late.err" &
lpid=$!
exec 3>"$T/in"
wait_for 'grep -q "detached (hard timeout)" "$T/late.err"' 100
cat "$T/ev.bin" >&3
exec 3>&-
wait $lpid
rc=$?
check 'requests made while every server is detached: given up, exit 4' \
	'test $rc = 4 && grep -q "retries exhausted (no server available)" "$T/late.err" &&
	grep -q "50 of 50 events not delivered" "$T/late.err"'

# a server that comes back before the retries run out gets everything
lrecv --listen 127.0.0.1:0 --port-file "$T/p0" >/dev/null 2>&1 &
rp=$!
wait_for 'test -s "$T/p0"'
port=$(cat "$T/p0")
kill $rp
wait $rp
mkfifo "$T/in2"
lf --ack --retry-max-times 200 --retry-wait 20ms --retry-max-interval 50ms \
	--heartbeat-interval 50ms --recover-wait 200ms 127.0.0.1:$port \
	<"$T/in2" 2>"$T/back.err" &
lpid=$!
exec 3>"$T/in2"
cat "$T/ev.bin" >&3
exec 3>&-
wait_for 'grep -q "detached" "$T/back.err"' 100
lrecv --listen 127.0.0.1:$port >"$T/back.out" 2>/dev/null &
rp=$!
wait $lpid
rc=$?
kill $rp
wait $rp
check 'a detached server back within the retries: all delivered, exit 0' \
	'test $rc = 0 && test $($PY "$FWD" decode <"$T/back.out" | wc -l) = 50'

# server arguments: usage errors before any I/O
for a in 127.0.0.1:99999 127.0.0.1:1x 127.0.0.1:-5 127.0.0.1:0; do
	check_err "server $a: exit 2, the argument named" 2 \
		'lf --heartbeat none --retry-max-times 0 "$a" <"$T/ev.bin"' \
		"lforward: bad server '$a'"
done
check_err '--secondary 127.0.0.1:0: exit 2, the option named' 2 \
	'lf --heartbeat none --retry-max-times 0 --secondary 127.0.0.1:0 127.0.0.1:1 <"$T/ev.bin"' \
	"lforward: bad --secondary server '127.0.0.1:0'"
check_err '--secondary 127.0.0.1:65536: exit 2' 2 \
	'lf --heartbeat none --retry-max-times 0 --secondary 127.0.0.1:65536 127.0.0.1:1 <"$T/ev.bin"' \
	"lforward: bad --secondary server '127.0.0.1:65536'"
check_err 'no server: exit 2, said before the usage line' 2 \
	'lf --ack <"$T/ev.bin"' 'lforward: no server given'
check 'no server: the usage line follows' 'grep -q "^usage: lforward" "$T/.err"'
