#!/bin/sh
# lbuffer and end-to-end marks: with --dir and a COMMAND a mark goes back
# once the events before it are stored (written, synced as --fsync says),
# never before, so a kill -9 right after a return loses none of them; in
# memory once they are delivered; without a COMMAND it is passed on after
# them.  Marks never reach a chunk or the COMMAND; a full queue of marks
# holds the input.  The producers are tests/data/marks.py and
# tests/data/lbm-marks.py (python3-msgpack, not lkit's code).
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
M="$PY $DATA/marks.py"
L="$PY $DATA/lbm-marks.py"
plan 25

cd "$T" || exit 1
# taken PID ERRFILE: the events lbuffer PID has read (SIGUSR1, --stats)
taken() {
	kill -USR1 "$1"
	wait_for "grep -q 'events in' '$2'" 50
	sed -n 's/.*events in \([0-9]*\),.*/\1/p' "$2" | tail -n 1
}

# --- --dir and a COMMAND: back once stored ----------------------------
check_out "--dir: both marks back, the events delivered" \
	"$M run --report r1 e3 m w e2 m -- lbuffer -d d1 -- \
	 sh -c 'cat >>d1.out' && cat r1" "returned 1 2"
check_out "--dir: the COMMAND got the events and no mark" \
	"$M decode <d1.out" "e1 e2 e3 e4 e5"
check_err "--dir, an output that fails: the mark is back all the same" 4 \
	"$M run --report r2 e3 m -- lbuffer -d d2 --retry-max-times 0 -- \
	 false" "events moved to d2/dead"
check_out "... as its events were stored" "cat r2" "returned 1"
check_err "--stats counts the marks" 0 \
	"$M run --report r3 e3 m e2 m -- lbuffer -d d3 --stats -- \
	 sh -c 'cat >/dev/null'" "marks in 2, returned "
check "--stats: not sent 0" "grep -q 'not sent 0' .err"

# a file size limit of 64 KiB: the one block of the 6000 events (about
# 110 KB) cannot be written, so the mark waits
: >held.log
$L feed held.log e6000 m -- sh -c 'echo $$ >held.pid; ulimit -S -f 128;
	exec lbuffer -d d4 --retry-wait 50ms --stats -- \
	sh -c "ulimit -f unlimited; cat >/dev/null"' 2>held.err &
fpid=$!
check "not stored (File too large): input held" \
	"wait_for \"grep -q 'File too large; input held' held.err\" 100"
check "... and the mark not back" "! test -s held.log"
prlimit --pid "$(cat held.pid)" --fsize=unlimited
check "once the block is stored, the mark comes back" \
	"wait_for \"grep -q 'returned 1' held.log\" 100"
wait $fpid
check_out "... and lbuffer delivers the lot and exits 0" "echo $?" 0

# kill -9 at once when a mark came back, then a restart on the same
# directory: every event a returned mark covered is delivered
for f in always interval never; do
	case $f in
	always) n=20 ;;
	*) n=8 ;;
	esac
	mkdir "out-$f"
	check "--fsync $f: kill -9 after a return, $n times: no event lost" \
		"$L crash crash-$f out-$f $n $$ -- --fsync $f \
		 --fsync-interval 50ms --chunk-limit-records 1000 \
		 --flush-interval 100ms --retry-wait 50ms --retry-forever \
		 2>crash-$f.err >crash-$f.txt; rc=\$?; cat crash-$f.txt
		 exit \$rc"
	sed 's/^/# /' "crash-$f.txt"
done

# --- in memory: back once delivered -----------------------------------
: >mem.log
$L feed mem.log e3 m -- lbuffer --retry-wait 50ms --retry-max-interval 50ms \
	--retry-forever -- sh -c 'test -e go || exit 1; cat >/dev/null' \
	2>mem.err &
fpid=$!
check "memory: the output fails" \
	"wait_for \"grep -q 'output failed' mem.err\" 100"
check "... and the mark is not back" "! test -s mem.log"
touch go
wait $fpid
check_out "memory: delivered, exit 0, the mark back" "echo $?; cat mem.log" \
	"0
returned 1"
rm go
# the first chunk given up: no later mark goes back, not even the one
# after a chunk delivered
check_exit "memory: a chunk given up, exit 4" 4 \
	"$M run --report r5 e3 m e2 m -- lbuffer --chunk-limit-records 3 \
	 --retry-max-times 0 -- sh -c 'test \$LBUFFER_CHUNK_RECORDS = 3 &&
	 exit 1; cat >/dev/null'"
check_out "... and no mark back" "cat r5" "returned none"

# a full queue of marks holds the input: 300 marks, each after a chunk of
# its own, while the output fails
MANY=$(i=0; while [ $i -lt 300 ]; do printf 'e1 m '; i=$((i + 1)); done)
: >many.log
$L feed many.log $MANY -- lbuffer --chunk-limit-records 1 --retry-wait 50ms \
	--retry-max-interval 50ms --retry-forever --stats -- \
	sh -c 'echo $PPID >many.pid; test -e go || exit 1; cat >/dev/null' \
	2>many.err &
fpid=$!
# held: lbuffer has read 256 or 257 events (the one after the 256th mark)
held() {
	n=$(taken "$(cat many.pid)" many.err)
	[ "$n" -ge 256 ] && [ "$n" -le 257 ]
}
wait_for "test -s many.pid" 100
check "256 marks waiting: the input is held (backpressure)" \
	"wait_for held 100"
touch go
wait $fpid
check_out "... then every event delivered, exit 0" \
	"echo $?; grep -c 'events in 300, out 300, dropped 0' many.err" "0
1"
check_out "... and the last mark back, last" "tail -n 1 many.log" \
	"returned 300"

# --- no COMMAND: passed on after the events -----------------------------
check_out "no COMMAND, memory: each mark after its chunk on stdout" \
	"$M stream e3 m e2 m | lbuffer --chunk-limit-records 3 | $M decode" \
	"e1 e2 e3 m1 e4 e5 m2"
check_out "no COMMAND, --dir: the same" \
	"$M stream e3 m e2 m | lbuffer -d d6 --chunk-limit-records 3 |
	 $M decode" "e1 e2 e3 m1 e4 e5 m2"
check_out "no COMMAND: lout at the end returns the marks" \
	"$M run --report r7 e3 m e2 m -- sh -c 'lbuffer -d d7 \
	 --chunk-limit-records 3 --stats 2>r7.err | lout >/dev/null' &&
	 awk '{ print \$NF }' r7" 2
check "--stats: marks in 2, passed on 2" \
	"grep -q 'marks in 2, passed on 2' r7.err"
