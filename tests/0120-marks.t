#!/bin/sh
# end-to-end marks: filters pass them on in order, sinks return them once
# the events before them are written, network readers drop them.  The
# producer is tests/data/marks.py (python3-msgpack, not lkit's code).
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
M="$PY $DATA/marks.py"
PEER="$DATA/fwdpeer.py"
plan 25

# pass-through: every event and every mark, in stream order
check_out "lparse | lreform | lgrep pass marks in order" \
	"$M stream e2 m e1 m e2 m | lparse -f json --reserve-data |
	 lreform a=1 | lgrep -r 'i .' | $M decode" \
	"e1 e2 m1 e3 m2 e4 e5 m3"
check "marks come out byte for byte as they went in" \
	"$M stream m m >'$T/mm.bin' &&
	 lparse -f json <'$T/mm.bin' | lreform a=1 | lgrep -r 'i .' |
	 cmp - '$T/mm.bin'"
check_out "lgrep -v passes them, dropping events" \
	"$M stream e3 m e2 m | lgrep -v -r 'i ^[24]\$' | $M decode" \
	"e1 e3 m1 e5 m2"
check_out "lgrep: an event dropped before a mark leaves it in place" \
	"$M stream e1 m e1 m | lgrep -r 'i ^1\$' | $M decode" "e1 m1 m2"
check_out "lreform -j: 0 and 2 events from one keep marks in order" \
	"$M stream e1 m e1 m e1 m e1 | lreform -j \
	 'if .i == 2 then empty elif .i == 3 then (., .) else . end' |
	 $M decode" "e1 m1 m2 e3 e3 m3 e4"
check_out "lparse --on-error drop: marks still pass" \
	"$M stream e1 m x m e1 m | lparse -f json --on-error drop 2>/dev/null |
	 $M decode" "e1 m1 m2 e3 m3"
check_out "lparse --on-error tag: marks in order with the routed event" \
	"$M stream e1 m x m | lparse -f json --on-error tag:bad 2>/dev/null |
	 $M decode" "e1 m1 e2 m2"
check_out "lcat --msgpack passes marks between records" \
	"$M stream --maps e2 m e1 m | lcat --msgpack t | $M decode" \
	"e1 e2 m1 e3 m2"

# lcat -m: each producer's marks stay after its own events, in order
$M stream --tag a e3 m e2 m >"$T/a.bin"
$M stream --tag b --first 101 --seq 101 --id 0f0e0d0c0b0a09080706050403020100 \
	--path /nonexistent/b e2 m e3 m >"$T/b.bin"
lcat -m "$T/a.bin" "$T/b.bin" | $M decode | tr ' ' '\n' >"$T/merged"
check_out "lcat -m: producer a's events and marks in its order" \
	"grep -E '^[em][0-9]\$' '$T/merged' | paste -sd ' ' -" \
	"e1 e2 e3 m1 e4 e5 m2"
check_out "lcat -m: producer b's in its order" \
	"grep -E '^[em]1[0-9][0-9]\$' '$T/merged' | paste -sd ' ' -" \
	"e101 e102 m101 e103 e104 e105 m102"
check_out "lcat -m: nothing else, nothing lost" "wc -l <'$T/merged'" 14

# sinks return marks
check_out "lout writes every event, never a mark" \
	"$M run --report '$T/r1' e3 m e2 m -- lout | wc -l" 5
check_out "lout returns the last mark once they are written" \
	"cat '$T/r1'" "returned 2"
check "lout --stats counts marks in, returned (one for both), not sent" \
	"$M run --report '$T/r7' e3 m e2 m -- lout --stats 2>&1 >/dev/null |
	 grep -q 'events in 5, out 5, .*, marks in 2, returned 1, not sent 0'"
check_out "lout --path: returned once the file is written" \
	"$M run --report '$T/r2' e3 m -- lout --path '$T/files/o.%Y.log' &&
	 cat '$T/r2' '$T/files/o.2023.log' | wc -l" 4
check_out "lout: no return while the events before it are unwritten, \
then the return" "$M blocked e2000 m -- lout" "before: none
after: 1
lines 2000"
check_out "lout on a live pipe: each mark back after its idle flush" \
	"$M run --report '$T/r3' e3 m w e2 m w e1 m -- lout | wc -l &&
	 cat '$T/r3'" "6
returned 1 2 3"
# a file size limit stands in for a full disk (as in 0310-lout-full.t)
$M run --report "$T/r6" e3 m w e20 m -- sh -c 'ulimit -f 1 && exec lout' \
	>"$T/lim.out" 2>"$T/lim.err"
echo $? >"$T/lim.rc"
check_out "lout: a failed write (exit 4) returns no mark after it" \
	"cat '$T/lim.rc' '$T/r6'" "4
returned 1"
check_out "lgrep -c is a sink: it counts events, returns each mark" \
	"$M run --report '$T/r4' e3 m e2 m -- lgrep -c -r 'i .' &&
	 cat '$T/r4'" "5
returned 1 2"
check_out "a whole pipeline: lout returns what passed every filter" \
	"$M run --report '$T/r5' e2 m x m e2 m -- sh -c \
	 'lparse -f json --reserve-data 2>/dev/null | lreform a=1 |
	  lgrep -r \"i .\" | lout' | wc -l && cat '$T/r5'" "5
returned 3"

# a malformed mark is bad data
check_err "a malformed mark: exit 3 with its offset" 3 \
	"$M stream --path rel e1 m e1 | lgrep" \
	"lgrep: stdin: byte 34: malformed mark"
{ $M stream --path rel e1 m; $M stream --first 2 --seq 2 m e1; } \
	>"$T/bad.bin"
check_out "--skip-invalid skips it, counts it, passes the good one" \
	"lgrep --skip-invalid <'$T/bad.bin' 2>'$T/skip.err' | $M decode &&
	 cat '$T/skip.err'" "e1 m2 e2
lgrep: stdin: skipped 31 bytes of invalid input in 1 places"

# a network writer drops marks: none goes on the Forward wire
$PY "$PEER" server "$T/fake.port" ack 20 "$T/cap.bin" >"$T/fake.log" 2>&1 &
fake=$!
wait_for "test -s '$T/fake.port'" || echo "# the fake server did not start"
check_exit "lforward reads events and marks, exit 0" 0 \
	"$M stream --path /nonexistent/markpath e3 m e2 m |
	 lforward --heartbeat none --ack 127.0.0.1:$(cat "$T/fake.port")"
kill $fake 2>/dev/null
wait $fake
check "lforward: all 5 events arrived, no mark on the wire" \
	"test \"\$(awk '/^request/ { n += \$3 } END { print n }' \
	 '$T/fake.log')\" = 5 && ! grep -a -q markpath '$T/cap.bin'"

# lforward to lrecv; and a peer sending marks to lrecv: only events go on
lrecv --listen 127.0.0.1:0 --port-file "$T/recv.port" >"$T/recv.out" \
	2>"$T/recv.err" &
recv=$!
wait_for "test -s '$T/recv.port'" || echo "# lrecv did not start"
port=$(cat "$T/recv.port")
$M stream e3 m e2 m | lforward --heartbeat none --ack 127.0.0.1:$port
$M stream --first 11 e1 m e1 >"$T/peer.bin"
$PY "$PEER" send $port "$T/peer.bin" >/dev/null
kill $recv
wait $recv 2>/dev/null
check_out "lrecv writes the events of lforward and of the peer, no mark" \
	"$M decode <'$T/recv.out' | tr ' ' '\n' | sort -n -k1.2 |
	 paste -sd ' ' -" "e1 e2 e3 e4 e5 e11 e12"
