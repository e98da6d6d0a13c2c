#!/bin/sh
# lforward: several servers - failover, standby, weights, secondary,
# consistent hashing, heartbeats and the failure detector
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 14

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
count() { $PY "$FWD" decode <"$T/$1.out" | wc -l | tr -d ' '; }
$PY "$FWD" events 4000 lf.multi >"$T/ev.bin"
HB="--heartbeat none --retry-wait 50ms"

start a; start b
check_exit 'a dead server and a live one: everything delivered, exit 0' 0 \
	'lforward $HB --chunk-limit-records 100 127.0.0.1:1 127.0.0.1:$p_a <"$T/ev.bin"'
check_exit 'weights 1 and 3: exit 0' 0 \
	'lforward $HB --chunk-limit-records 10 127.0.0.1:$p_a,weight=1 127.0.0.1:$p_b,weight=3 <"$T/ev.bin"'
stop a; stop b
check 'weights 1 and 3: the second server got three times the first' \
	'test $(count a) -eq $((4000 + 1000)) && test $(count b) -eq 3000'

start a; start s
check_exit 'standby while the regular is up: exit 0' 0 \
	'lforward $HB 127.0.0.1:$p_a 127.0.0.1:$p_s,standby <"$T/ev.bin"'
check_exit 'standby while the regular is down: exit 0' 0 \
	'lforward $HB --chunk-limit-records 500 127.0.0.1:1 127.0.0.1:$p_s,standby <"$T/ev.bin"'
stop a; stop s
check 'the standby got only what the dead regular could not take' \
	'test $(count a) = 4000 && test $(count s) = 4000'

start sec
check_exit '--secondary takes the requests the primary could not' 0 \
	'lforward $HB --retry-max-times 1 --secondary 127.0.0.1:$p_sec 127.0.0.1:1 <"$T/ev.bin"'
stop sec
check_same 'all of them' 'count sec' 'echo 4000'

# consistent hashing: adding a fifth server moves about a fifth of the keys
seq 1 2000 | sed 's/.*/{"k":"key&"}/' | lcat lf.hash >"$T/keys.bin"
for s in h1 h2 h3 h4 h5; do start $s; done
# keys NAME [SKIP]: the keys NAME received, after the first SKIP events
keys() {
	$PY "$FWD" decode <"$T/$1.out" | tail -n +$((${2:-0} + 1)) |
		sed 's/.*"k":"\([^"]*\)".*/\1/' | sort
}
lforward $HB --balance hash:k 127.0.0.1:$p_h1 127.0.0.1:$p_h2 \
	127.0.0.1:$p_h3 127.0.0.1:$p_h4 <"$T/keys.bin"
for s in h1 h2 h3 h4; do keys $s >"$T/$s.four"; done
: >"$T/h5.four"
lforward $HB --balance hash:k 127.0.0.1:$p_h1 127.0.0.1:$p_h2 \
	127.0.0.1:$p_h3 127.0.0.1:$p_h4 127.0.0.1:$p_h5 <"$T/keys.bin"
for s in h1 h2 h3 h4 h5; do
	stop $s
	keys $s $(wc -l <"$T/$s.four") >"$T/$s.five"
done
check 'hash: every key went to exactly one server, none lost' \
	'test $(cat "$T"/h?.four | sort -u | wc -l) = 2000 &&
	 test $(cat "$T"/h?.four | wc -l) = 2000'
moved=$(for s in h1 h2 h3 h4; do comm -23 "$T/$s.four" "$T/$s.five"; done | wc -l)
check "hash: a fifth server moved $moved of 2000 keys (about 1/5)" \
	'test $moved -ge 200 && test $moved -le 640'
check 'hash: the moved keys all went to the new server' \
	'test $(wc -l <"$T/h5.five") = $moved'

# heartbeats: UDP heartbeats are answered; a dead server is detached by
# the hard timeout before any request, and recovered once it is back
start u
mkfifo "$T/fifo"
lforward --heartbeat udp --heartbeat-interval 100ms 127.0.0.1:$p_u <"$T/fifo" 2>"$T/u.log" &
lpid=$!
exec 7>"$T/fifo"
sleep 1
cat "$T/ev.bin" >&7
exec 7>&-
wait $lpid
kill -USR1 "$(cat "$T/u.pid")"
wait_for 'grep -q "heartbeats [1-9]" "$T/u.err"'
check 'UDP heartbeats reach lrecv and are answered' \
	'grep -q "heartbeats [1-9]" "$T/u.err" && test $(count u) = 4000'
stop u

start gone
pg=$p_gone
stop gone
start live
mkfifo "$T/fifo2"
lforward --heartbeat transport --heartbeat-interval 100ms --hard-timeout 500ms \
	--recover-wait 300ms 127.0.0.1:$pg 127.0.0.1:$p_live <"$T/fifo2" 2>"$T/d.log" &
lpid=$!
exec 7>"$T/fifo2"
wait_for 'grep -q "detached (hard timeout)" "$T/d.log"' 50
cat "$T/ev.bin" >&7
LISTEN=127.0.0.1:$pg start gone
wait_for 'grep -q "127.0.0.1:$pg: recovered" "$T/d.log"' 50
exec 7>&-
wait $lpid
stop gone; stop live
check 'a silent server is detached by --hard-timeout' \
	'grep -q "127.0.0.1:$pg: detached (hard timeout)" "$T/d.log"'
check 'and recovered when its heartbeats come back' \
	'grep -q "127.0.0.1:$pg: recovered" "$T/d.log"'
