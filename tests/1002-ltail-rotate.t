#!/bin/sh
# ltail: rotation by rename and by copytruncate under a writer that never
# stops, with inotify and with polling; deletion.  Every line is counted.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
ROT="$DATA/ltail-rot.py"
N=20000
EVERY=4000
plan 15

# run NAME MODE ARGS...: app.log in $T/NAME, written by the writer in MODE
# while ltail ARGS follows it; ends with every line out, ltail stopped.
run() {
	name=$1 mode=$2
	shift 2
	d=$T/$name
	mkdir "$d"
	: >"$d/app.log"
	ltail --pos-file "$d/pos" --stats "$@" "$d/app.log" >"$d/out.mp" \
		2>"$d/err" &
	pid=$!
	wait_for "test -s '$d/pos'"
	$PY "$ROT" write "$mode" "$d/app.log" $N $EVERY "$d/out.mp"
	wait_for "test \$(lout -f single_value <'$d/out.mp' 2>/dev/null |
		wc -l) -ge $N" 300
	# the writer is done: lines still missing now are lost for good
	kill -TERM $pid
	wait $pid
	echo $? >"$d/rc"
	lout -f single_value <"$d/out.mp" >"$d/out"
}

# rename + create: the old file is drained (the writer still adds 50 lines
# to it after the rename), the new one read from its start
run rename rename
check "rename: every line exactly once (inotify)" \
	"$PY '$ROT' check '$d/out' $N"
check "rename: exit 0 after SIGTERM" "test \$(cat '$d/rc') = 0"
check "rename: the rotations were seen and counted" \
	"grep -q 'rotations 4,' '$d/err'"
check "rename: the position file names the new file" \
	"test \"\$($PY '$ROT' offset '$d/pos' '$d/app.log')\" = \
		\$(wc -c <'$d/app.log')"

run rename-poll rename --poll --poll-interval 50ms
check "rename: every line exactly once (--poll)" \
	"$PY '$ROT' check '$d/out' $N"
check "rename --poll: rotations counted" "grep -q 'rotations 4,' '$d/err'"

# copytruncate.  A line can be lost only when the file is truncated
# before ltail read it (it is then only in the copy): copysync waits for
# ltail before each copy, so nothing at all may be missing.
run copysync copysync
check "copytruncate (waiting for ltail): every line exactly once" \
	"$PY '$ROT' check '$d/out' $N"
check "copytruncate: truncations counted" \
	"grep -q 'truncations 4\$' '$d/err'"
run copysync-poll copysync --poll --poll-interval 50ms
check "copytruncate --poll (waiting for ltail): every line exactly once" \
	"$PY '$ROT' check '$d/out' $N"

# Without waiting: no line twice, and a missing line must be one that only
# the copy holds, at its tail (inherent to copytruncate in every tailer).
d=$T/copy
mkdir "$d"
: >"$d/app.log"
ltail --pos-file "$d/pos" "$d/app.log" >"$d/out.mp" 2>"$d/err" &
pid=$!
wait_for "test -s '$d/pos'"
$PY "$ROT" write copytruncate "$d/app.log" $N $EVERY
# wait for the last line, written after the last truncation
wait_for "lout -f single_value <'$d/out.mp' 2>/dev/null | grep -q '^0$N '" 300
kill -TERM $pid
wait $pid
lout -f single_value <"$d/out.mp" >"$d/out"
check "copytruncate: no duplicates; only lines of a copy's tail missing" \
	"$PY '$ROT' check '$d/out' $N '$d'/app.log.[1-9] | tee '$d/lost'"
lost=$(sed -n 's/^lost //p' "$d/lost")
echo "# copytruncate without waiting lost ${lost:-?} lines"

# deletion: a writer that keeps the file open goes on writing after the
# unlink; ltail reads to the end, then closes the file after --rotate-wait
d=$T/del
mkdir "$d"
: >"$d/app.log"
ltail --pos-file "$d/pos" --rotate-wait 300ms "$d/app.log" >"$d/out.mp" \
	2>"$d/err" &
pid=$!
wait_for "test -s '$d/pos'"
$PY -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
for i in range(1, 1001):
    os.write(fd, b"%06d ........ end\n" % i)
os.unlink(sys.argv[1])
time.sleep(0.1)
for i in range(1001, 2001):
    os.write(fd, b"%06d ........ end\n" % i)
' "$d/app.log"
wait_for "test \$(lout -f single_value <'$d/out.mp' | wc -l) -ge 2000"
lout -f single_value <"$d/out.mp" >"$d/out"
check "deletion: lines written before and after the unlink, once" \
	"$PY '$ROT' check '$d/out' 2000"
check "deletion: the file is closed after --rotate-wait" \
	"wait_for 'kill -USR1 $pid; grep -q \"files watched 0\" \"$d/err\"' 50"
check "deletion: and dropped from the position file" \
	"wait_for 'test ! -s \"$d/pos\"'"
echo "late" >"$d/app.log"
check "deletion: a new file under the name is read from its start" \
	"wait_for 'lout -f single_value <\"$d/out.mp\" | grep -qx late'"
kill -TERM $pid
wait $pid
check "deletion: exit 0" "test $? = 0"
