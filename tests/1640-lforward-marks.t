#!/bin/sh
# lforward is a sink of end-to-end marks: a mark goes back to its producer
# once every event before it is delivered (acked with --ack, written
# without), never when one was given up; marks never go on the wire.
# The producer is tests/data/marks.py (python3-msgpack, not lkit's code).
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
M="$PY $DATA/marks.py"
PEER="$DATA/fwdpeer.py"
plan 26

HB="--heartbeat none"
# every run is bounded; after the bound it has 100 ms to stop
LF="timeout -k 2 60 lforward $HB --shutdown-timeout 100ms"
# evs FILE: lrecv's output, one "eI" per event (marks would be "mN")
evs() { $M decode <"$1"; }
# fake NAME MODE: the python Forward server (ack or silent); $fport
fake() {
	$PY "$PEER" server "$T/$1.port" "$2" 20 "$T/$1.cap" >"$T/$1.log" 2>&1 &
	echo $! >"$T/$1.pid"
	wait_for "test -s '$T/$1.port'"
	fport=$(cat "$T/$1.port")
}

# --ack into lrecv: each mark back once its events are acked; the first
# while lforward still runs (marks.py waits for it before going on)
lrecv_start a
check_exit "--ack, lrecv up: exit 0" 0 \
	"$M run --report '$T/r1' e3 m w e2 m -- $LF --ack 127.0.0.1:$port"
check_out "--ack: both marks back, the first before the input ended" \
	"cat '$T/r1'" "returned 1 2"
check_err "--stats counts the marks" 0 \
	"$M run --report '$T/r1s' e3 m e2 m -- $LF --ack --stats 127.0.0.1:$port" \
	"events in 5, out 5, dropped 0"
check "--stats: marks in 2, returned (one for both, or each), not sent 0" \
	"grep -Eq 'marks in 2, returned [12], not sent 0' '$T/.err'"
# a mark first (nothing before it) and a mark last with nothing after
check_out "--ack: a mark with no event before it comes back at once" \
	"$M run --report '$T/r2' m w e4 m w -- $LF --ack 127.0.0.1:$port &&
	 cat '$T/r2'" "returned 1 2"
# without --ack: back once written to the socket
check_out "no --ack: marks back after the write" \
	"$M run --report '$T/r3' e2 m w e1 m -- $LF 127.0.0.1:$port &&
	 cat '$T/r3'" "returned 1 2"
MANY=$(i=0; while [ $i -lt 300 ]; do printf 'e1 m '; i=$((i + 1)); done)
# 300 marks, one after each event: every event delivered, the returns in
# order (the producer's socket holds only a few: some returns not sent)
check_err "300 marks: exit 0, every event delivered" 0 \
	"$M run --report '$T/r4' $MANY -- $LF --ack --stats 127.0.0.1:$port" \
	"events in 300, out 300, dropped 0"
check "300 marks: all read, the returns in order, each a mark made" \
	"grep -q 'marks in 300, returned' '$T/.err' &&
	 tr ' ' '\n' <'$T/r4' | tail -n +2 >'$T/r4.seq' && test -s '$T/r4.seq' &&
	 sort -n -u '$T/r4.seq' | cmp - '$T/r4.seq'"
lrecv_stop a
check_same "lrecv got every event of the five runs, once, and no mark" \
	"evs '$T/a.out' | tr ' ' '\n' | sort" \
	"for s in 'e3 e2' 'e3 e2' e4 'e2 e1' '$MANY'; do
	 $M stream \$s | $M decode; done | tr ' ' '\n' | grep -v '^m' | sort"
check_out "lrecv got 317 events" "evs '$T/a.out' | wc -w" 317

# two producers in one stream (as lcat -m merges them): each gets its mark
cat >"$T/recv.py" <<'EOF'
import socket, struct, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setblocking(False)
rc = subprocess.call(sys.argv[2:], timeout=60)
got = []
while True:
    try:
        d = s.recv(4096)
    except BlockingIOError:
        break
    got.append(str(struct.unpack(">Q", d[20:28])[0]))
print("returned " + (" ".join(got) or "none"))
sys.exit(rc)
EOF
$M stream --id 0f0e0d0c0b0a09080706050403020100 --path "$T/b.sock" \
	--first 101 --seq 101 e2 m >"$T/b.bin"
lrecv_start b
check_out "two producers: producer b's mark back" \
	"$M run --report '$T/r9' e2 m -- $PY '$T/recv.py' '$T/b.sock' \
	 sh -c 'cat - \"$T/b.bin\" | $LF --ack 127.0.0.1:$port'" "returned 101"
check_out "two producers: producer a's mark back too" "cat '$T/r9'" \
	"returned 1"
lrecv_stop b
check_out "two producers: lrecv got the events of both" \
	"evs '$T/b.out'" "e1 e2 e101 e102"

# a server that reads and never acks: with --ack no mark comes back
fake s silent
check_exit "--ack, no ack ever: exit 4" 4 \
	"$M run --report '$T/r5' e3 m -- $LF --ack --ack-timeout 300ms \
	 --retry-max-times 0 127.0.0.1:$fport"
check_out "--ack, no ack ever: the mark does not come back" \
	"cat '$T/r5'" "returned none"
kill "$(cat "$T/s.pid")" 2>/dev/null
wait "$(cat "$T/s.pid")" 2>/dev/null

# the receiver down: nothing delivered, no mark back, exit 4
check_exit "--ack, receiver down: exit 4" 4 \
	"$M run --report '$T/r6' e3 m e2 m -- $LF --ack --retry-max-times 0 \
	 127.0.0.1:1"
check_out "--ack, receiver down: no mark back" "cat '$T/r6'" "returned none"
check_exit "no --ack, receiver down: exit 4" 4 \
	"$M run --report '$T/r7' e3 m -- $LF --retry-max-times 1 \
	 --retry-wait 20ms 127.0.0.1:1"
check_out "no --ack, receiver down: no mark back" "cat '$T/r7'" \
	"returned none"

# marks never go on the wire: the server sees events only
fake c ack
$M run --report "$T/r8" e3 m e2 m -- $LF --ack 127.0.0.1:$fport
kill "$(cat "$T/c.pid")" 2>/dev/null
wait "$(cat "$T/c.pid")" 2>/dev/null
check_out "the fake server: the marks back, the last one last" \
	"awk '{ print \$NF }' '$T/r8'" 2
check "the fake server's bytes hold no mark" \
	"test -s '$T/c.cap' && ! grep -q lkit-marks-test '$T/c.cap'"

# ltail --end-to-end | lforward --ack: the position moves once lrecv acked
cd "$T" || exit 1
mkdir -m 700 run
export XDG_RUNTIME_DIR=$T/run
hex16() { printf '%016x' "$1"; }
off() { cut -f2 "$1" | head -n 1; }
printf 'one\ntwo\nthree\n' >a.log
lrecv_start l
{ timeout 60 ltail --once -r --end-to-end --end-to-end-timeout 10s \
	--pos-file a.pos a.log 2>t1.err; echo $? >t1.rc; } |
	$LF --ack 127.0.0.1:$port
lrecv_stop l
check_out "ltail --end-to-end | lforward --ack: ltail exits 0" "cat t1.rc" 0
check_out "ltail | lforward: the position is at the end of the file" \
	"off a.pos" "$(hex16 14)"
check_out "ltail | lforward: every line reached lrecv" \
	"lout -f single_value <l.out" "one
two
three"
# the receiver down: the position stays at the start
printf 'one\ntwo\nthree\n' >b.log
{ timeout 60 ltail --once -r --end-to-end --end-to-end-timeout 1s \
	--pos-file b.pos b.log 2>t2.err; echo $? >t2.rc; } |
	$LF --ack --retry-max-times 0 127.0.0.1:1 2>/dev/null
check_out "ltail | lforward, receiver down: ltail exits 4" "cat t2.rc" 4
check_out "ltail | lforward, receiver down: the position stays at 0" \
	"off b.pos" "$(hex16 0)"
