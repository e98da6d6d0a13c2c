#!/bin/sh
# lsyslog is a sink of end-to-end marks: a mark goes back to its producer
# once every message before it is written to the socket (sent, over UDP),
# never once a message was given up; marks never go on the wire.
# The producer is tests/data/marks.py (python3-msgpack, not lkit's code).
. "${0%/*}/lib.sh"
. "${0%/*}/lib-syslog.sh"
M="$PY $DATA/marks.py"
plan 18

# the messages a receiver got: "jN" for each {"j": N}
msgs() { sed -n 's/^msg .*{"j": \([0-9]*\)}$/j\1/p' "$1" | tr '\n' ' '; echo; }
LS="timeout -k 2 60 lsyslog --shutdown-timeout 300ms"

# tcp: each mark back once written; the first while lsyslog still runs
# (marks.py waits for it before it writes on)
srv a tcp
check_exit 'tcp: exit 0' 0 \
	"$M run --report '$T/r1' e3 m w e2 m -- $LS tcp:127.0.0.1:$sport"
check_out 'tcp: both marks back, the first before the input ended' \
	"cat '$T/r1'" 'returned 1 2'
check_err '--stats counts the marks' 0 \
	"$M run --report '$T/r2' m w e4 m w -- $LS --stats tcp:127.0.0.1:$sport" \
	'events in 4, out 4, dropped 0'
check 'a mark with nothing before it comes back at once; marks counted' \
	"grep -q 'returned 1 2' '$T/r2' &&
	 grep -Eq 'marks in 2, returned 2, not sent 0' '$T/.err'"
MANY=$(i=0; while [ $i -lt 300 ]; do printf 'e1 m '; i=$((i + 1)); done)
check_err '300 marks: exit 0, every event written' 0 \
	"$M run --report '$T/r3' $MANY -- $LS --stats tcp:127.0.0.1:$sport" \
	'events in 300, out 300, dropped 0'
check '300 marks: all read, the returns in order, each a mark made' \
	"grep -q 'marks in 300, returned' '$T/.err' &&
	 tr ' ' '\n' <'$T/r3' | tail -n +2 >'$T/r3.seq' && test -s '$T/r3.seq' &&
	 sort -n -u '$T/r3.seq' | cmp - '$T/r3.seq'"
wait_for 'test $(grep -c ^eof "$T/a.log") = 3'
srv_stop a
check_out 'the server got every event of the three runs, once' \
	"grep -c '^msg' '$T/a.log'" 309
check 'the server'"'"'s bytes hold no mark' \
	"test -s '$T/a.cap' && ! grep -q lkit-marks-test '$T/a.cap'"

# udp: back once sent
srv u udp
check_out 'udp: the marks back once sent' \
	"$M run --report '$T/r4' e2 m w e1 m -- $LS udp:127.0.0.1:$sport &&
	 cat '$T/r4'" 'returned 1 2'
wait_for 'test $(grep -c "^msg" "$T/u.log") = 3'
srv_stop u
check_out 'udp: the three messages, no mark' "msgs '$T/u.log'" 'j1 j2 j3 '

# nobody listens: nothing written, no mark back, exit 4
check_exit 'server down: exit 4' 4 \
	"$M run --report '$T/r5' e3 m e2 m -- $LS --retry-max-times 1 \
	 --retry-wait 20ms tcp:127.0.0.1:1"
check_out 'server down: no mark back' "cat '$T/r5'" 'returned none'
# a mark before the failure goes back, none after it: the server takes
# two messages and goes away before lsyslog reads on (gate.py passes its
# input on, holding what follows the first mark until the server is gone)
cat >"$T/gate.py" <<'EOF'
import os, sys, time
held = False
while True:
    b = os.read(0, 65536)
    if not b:
        break
    os.write(1, b)
    if not held and b"\xc7" in b:
        held = True
        end = time.time() + 20
        while "dropped" not in open(sys.argv[1]).read() and time.time() < end:
            time.sleep(0.02)
EOF
srv b tcp --drop 2 --once
check_exit 'the server gone after 2 messages: exit 4' 4 \
	"$M run --report '$T/r6' e2 m w e1 m -- sh -c '$PY $T/gate.py $T/b.log |
	 $LS --retry-max-times 1 --retry-wait 20ms tcp:127.0.0.1:$sport'"
check_out 'the mark before it back, the one after it not' \
	"cat '$T/r6'" 'returned 1'
check_out 'the two before it were received' "msgs '$T/b.log'" 'j1 j2 '
srv_stop b

# ltail --end-to-end | lsyslog: the position moves once written
cd "$T" || exit 1
mkdir -m 700 run
export XDG_RUNTIME_DIR=$T/run
hex16() { printf '%016x' "$1"; }
off() { cut -f2 "$1" | head -n 1; }
printf 'one\ntwo\nthree\n' >a.log
srv l tcp
{ timeout 60 ltail --once -r --end-to-end --end-to-end-timeout 10s \
	--pos-file a.pos a.log 2>t1.err; echo $? >t1.rc; } |
	$LS tcp:127.0.0.1:$sport
check_out 'ltail --end-to-end | lsyslog: ltail exits 0' 'cat t1.rc' 0
check_out 'ltail | lsyslog: the position is at the end of the file' \
	'off a.pos' "$(hex16 14)"
wait_for 'grep -q "^eof 1" l.log'
srv_stop l
check_out 'ltail | lsyslog: every line reached the server' \
	'grep "^msg" l.log | sed "s/.* //" | tr "\n" " "; echo' 'one two three '
