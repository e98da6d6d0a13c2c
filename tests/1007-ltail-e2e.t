#!/bin/sh
# ltail --end-to-end: the position file moves only past lines whose mark
# came back from the last lkit stage; what happens when marks do not come
# back; rotated files kept until delivered; nothing changes without it.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 30

hex16() { printf '%016x' "$1"; }
ino() { stat -c %i "$1"; }
off() { cut -f2 "$1" | head -n 1; }
# vals FILE: the top-level msgpack values of FILE, one a line: "event",
# "mark" (ext 108) or what else
vals() {
	$PY -c '
import msgpack, sys
for v in msgpack.Unpacker(open(sys.argv[1], "rb"), raw=True,
        ext_hook=lambda c, d: ("ext%d" % c) if c != 108 else "mark"):
    print("event" if isinstance(v, list) and len(v) == 3 else v)
' "$1"
}

cd "$T" || exit 1
mkdir -m 700 run
export XDG_RUNTIME_DIR=$T/run

check_err "usage: --end-to-end without --pos-file" 2 \
	"ltail --end-to-end --once a.log" "--end-to-end needs --pos-file"
check_err "usage: a bad --end-to-end-timeout" 2 \
	"ltail --end-to-end --end-to-end-timeout x -p p a.log" \
	"bad time 'x' for --end-to-end-timeout"

# --once into something that is not an lkit sink: no mark comes back
printf 'one\ntwo\nthree\n' >a.log
{ ltail --once -r --end-to-end --end-to-end-timeout 300ms --pos-file a.pos \
	a.log 2>a.err; echo $? >a.rc; } | cat >/dev/null
check_out "--once | cat: exit 4 when the last mark does not come back" \
	"cat a.rc" 4
check "--once | cat: and the cause is named" \
	"grep -q 'the last mark did not come back within 300 ms: is the end of the pipeline an lkit sink' a.err"
check_out "--once | cat: the position stays at the start" "cat a.pos" \
	"a.log	$(hex16 0)	$(hex16 $(ino a.log))"

# the same into lout: the mark comes back, the position moves to the end
{ ltail --once -r --end-to-end --pos-file a.pos --stats a.log 2>a2.err;
	echo $? >a2.rc; } | lout -f single_value >a2.out
check_out "--once | lout: exit 0" "cat a2.rc" 0
check_out "--once | lout: every line" "cat a2.out" "one
two
three"
check_out "--once | lout: the position is at the end" "off a.pos" \
	"$(hex16 14)"
check "--once | lout: one mark made, one returned" \
	"grep -q 'marks made 1, returned 1' a2.err"
check "the return socket and its directory are removed at exit" \
	"test -z \"\$(ls run)\""

# through filters: lparse, lreform, lgrep (dropped events are delivered)
printf 'k=1\nk=2\nk=3\nk=4\n' >>a.log
{ ltail --once --end-to-end --end-to-end-timeout 10s --pos-file a.pos a.log;
	echo $? >a3.rc; } | lparse -f logfmt | lreform f=x |
	lgrep -x 'k ^[24]$' | lout -f json >a3.out
check_out "through lparse | lreform | lgrep | lout: exit 0" "cat a3.rc" 0
check_out "through filters: the events kept" "cat a3.out" \
	'{"k":1,"f":"x"}
{"k":3,"f":"x"}'
check_out "through filters: the position is at the end" "off a.pos" \
	"$(hex16 30)"
echo five >>a.log
ltail --once --end-to-end --pos-file a.pos a.log | lout -f single_value \
	>a4.out
check_out "the next run reads only the new line" "cat a4.out" five

# the stream: the mark after the events it covers; none without the option
printf 's1\ns2\n' >s.log
ltail --once -r --end-to-end --end-to-end-timeout 100ms --pos-file s.pos \
	s.log >s.mp 2>/dev/null
check_out "the stream: events, then the mark" "vals s.mp" "event
event
mark"
ltail --once -r --pos-file s2.pos s.log >s2.mp
check_out "without --end-to-end: no mark is written" "vals s2.mp" "event
event"
check_out "without --end-to-end: the position moves as before" "off s2.pos" \
	"$(hex16 6)"

# following, into cat: positions never move past the start, and after
# --end-to-end-timeout ltail says why
printf 'f1\n' >f.log
{ bg f ltail --end-to-end --end-to-end-timeout 500ms -r --pos-file f.pos \
	f.log 2>f.err; echo $? >f.rc; } | cat >/dev/null &
wait_for "test -s f.pos"
echo f2 >>f.log
check "following | cat: a warning when no mark comes back" \
	"wait_for 'grep -q \"no mark came back for 500 ms: is the end of the pipeline an lkit sink\" f.err' 100"
check_out "following | cat: the position is still at the start" "off f.pos" \
	"$(hex16 0)"
kill -TERM $(pid_of f)
wait
check_out "following | cat: SIGTERM still exits 0" "cat f.rc" 0
check_out "following | cat: the position never moved" "off f.pos" \
	"$(hex16 0)"

# following, into lout: the position follows what lout wrote
{ bg f2 ltail --end-to-end --pos-file f.pos f.log; echo $? >f2.rc; } |
	lout -f single_value >f2.out &
wait_for "test \"\$(off f.pos)\" = $(hex16 6)"
echo f3 >>f.log
check "following | lout: the position moves once the line is written" \
	"wait_for 'test \"\$(off f.pos)\" = $(hex16 9)'"
check_out "following | lout: the lines" "cat f2.out" "f1
f2
f3"
kill -TERM $(pid_of f2)
wait
check_out "following | lout: SIGTERM exits 0" "cat f2.rc" 0

# a file rotated away and closed keeps its entry until its lines are
# delivered: a restart that finds it under its new name reads them
printf 'r1\nr2\n' >r.log
{ bg r ltail --end-to-end --end-to-end-timeout 1s -r --rotate-wait 0 \
	--pos-file r.pos r.log 2>r.err; echo $? >r.rc; } | cat >/dev/null &
wait_for "test -s r.pos"
old=$(ino r.log)
mv r.log r.log.1
echo r3 >r.log
tp=$(pid_of r)
# SIGUSR1 prints the counters: the rotated file is closed when 1 is watched
wait_for "kill -USR1 $tp; grep -q 'files watched 1, rotations 1,' r.err"
kill -TERM $tp 2>/dev/null
wait
check "rotated away and closed: its entry is kept (no mark came back)" \
	"grep -qx 'r.log	$(hex16 0)	$(hex16 $old)' r.pos"
ltail --once --end-to-end --pos-file r.pos 'r.log*' | lout -f single_value \
	>r.out
check_out "restart: the rotated file's lines and the new file's" \
	"sort r.out" "r1
r2
r3"

# and once its lines are delivered, the entry goes
printf 'q1\n' >q.log
{ bg q ltail --end-to-end -r --rotate-wait 0 --pos-file q.pos q.log; } |
	lout -f single_value >q.out &
wait_for "test \"\$(off q.pos)\" = $(hex16 3)"
old=$(ino q.log)
mv q.log q.log.1
echo q2 >q.log
check "rotated away and delivered: its entry goes" \
	"wait_for '! grep -q $(hex16 $old) q.pos && grep -q q2 q.out'"
kill -TERM $(pid_of q)
wait

# truncated in place (copytruncate) while marks are out: the position goes
# back to 0 at once, and moves on as the new lines are delivered
printf 'c1\nc2\n' >c.log
{ bg c ltail --end-to-end -r --pos-file c.pos c.log 2>c.err; } |
	bg co lout -f single_value >c.out &
wait_for "test \"\$(off c.pos)\" = $(hex16 6)"
kill -STOP $(pid_of co)
echo c3 >>c.log
wait_for "kill -USR1 $(pid_of c) && grep -q 'events in 3,' c.err"
printf 'n1\n' >c.log
wait_for "kill -USR1 $(pid_of c) && grep -q 'truncations 1,' c.err"
check "truncated, lout stopped: the position goes back to 0" \
	"wait_for 'test \"\$(off c.pos)\" = $(hex16 0)'"
kill -CONT $(pid_of co)
check "truncated: the position moves on as lout writes the new line" \
	"wait_for 'test \"\$(off c.pos)\" = $(hex16 3)'"
kill -TERM $(pid_of c)
wait
check_out "truncated: the lines" "cat c.out" "c1
c2
c3
n1"
