#!/bin/sh
# ltail --end-to-end in a pipeline ltail | lparse | lout that is killed
# (kill -9 of one stage, SIGTERM of all) while a writer appends and rotates:
# after each restart every line arrives at least once, and the position
# file never gets ahead of what lout wrote.
. "${0%/*}/lib.sh"
. "${0%/*}/lib-e2e.sh"
N=30000
e2e_need
plan 15

# start DIR PATTERN: ltail | lparse | lout >>DIR/out in the background,
# the line numbers only; ltail's exit status goes to DIR/t.rc
start() {
	rm -f "$1"/t.pid "$1"/p.pid "$1"/o.pid "$1"/t.rc
	e2e_head "$1" "$2" |
		bg "$1/o" lout -f single_value --key n >>"$1/out" &
	pipe=$!
	tp=$(pid_of "$1/t") pp=$(pid_of "$1/p") op=$(pid_of "$1/o")
	stages="$tp $pp $op"
}
# missing DIR N: the line numbers 1..N not in DIR/out, one a line
missing() { seq -f %06g 1 "$2" | comm -23 - "$1/all"; }

# kill -9 of ltail, of lparse, then of lout, while the writer appends
# and renames app.log to app.log.1, .2, ...: the pattern app.log* finds
# the rotated files again after a restart
d=$T/k
mkdir "$d"
: >"$d/app.log"
: >"$d/out"
start "$d" "$d/app.log*"
$PY "$ROT" write rename "$d/app.log" $N 6000 &
wpid=$!
i=0
for victim in t p o; do
	i=$((i + 1))
	wait_for "test \$(lines '$d') -ge $((i * 5000))" 300
	eval "stop \$${victim}p"
	echo "# kill -9 of the $victim stage at $(lines "$d") lines out"
	start "$d" "$d/app.log*"
done
wait $wpid
wait_for "test \$(sort -u '$d/out' | wc -l) -ge $N" 300
stop
check_out "kill -9 of each stage in turn: ltail exits 0 at the end" \
	"cat '$d/t.rc'" 0
sort -u "$d/out" >"$d/all"
check "kill -9 of each stage in turn, with rotation: no line lost" \
	"test -z \"\$(missing '$d' $N)\""
dups=$(sort "$d/out" | uniq -d | wc -l)
echo "# $(lines "$d") lines out for $N, $dups of them twice"
check "the rotated files were found again" "grep -q 'app.log.3' '$d/pos'"

# SIGTERM of every stage at once, in mid-stream: the position is at most
# what lout wrote (every line before it is in the output)
d=$T/t
mkdir "$d"
: >"$d/app.log"
: >"$d/out"
start "$d" "$d/app.log"
$PY "$ROT" write plain "$d/app.log" $N 1000000 &
wpid=$!
wait_for "test \$(lines '$d') -ge 5000" 300
kill -TERM $tp $pp $op
wait $pipe
check_out "SIGTERM of the pipeline: ltail exits 0" "cat '$d/t.rc'" 0
sort -u "$d/out" >"$d/all"
off=$($PY "$ROT" offset "$d/pos" "$d/app.log")
echo "# stopped at $(lines "$d") lines out, position at line $((off / 20))"
check "SIGTERM: the saved position is at a line end" "test $((off % 20)) = 0"
check "SIGTERM: every line before the saved position was written" \
	"test -z \"\$(missing '$d' $((off / 20)))\""
check "SIGTERM: the position moved as lines were delivered" "test $off -gt 0"
first=$(lines "$d")
start "$d" "$d/app.log"
wait $wpid
wait_for "test \$(sort -u '$d/out' | wc -l) -ge $N" 300
stop
sort -u "$d/out" >"$d/all"
check "SIGTERM, restart: no line lost" "test -z \"\$(missing '$d' $N)\""
check "SIGTERM, restart: the restart began at the saved position" \
	"test \$(sed -n $((first + 1))p '$d/out') = $(printf %06d $((off / 20 + 1)))"
check_out "SIGTERM, restart: ltail exits 0" "cat '$d/t.rc'" 0

# lout stopped (SIGSTOP) with lines in the pipes, then SIGTERM of ltail:
# it waits for its last mark in vain and keeps the position at what lout
# wrote; lout killed; the restart writes the lines that were in transit
d=$T/s
mkdir "$d"
seq -f '%06g ........ end' 1 1000 >"$d/app.log"
: >"$d/out"
start "$d" "$d/app.log"
wait_for "test \$(lines '$d') = 1000 &&
	test \$($PY '$ROT' offset '$d/pos' '$d/app.log') = 20000" 300
kill -STOP $op
seq -f '%06g ........ end' 1001 2000 >>"$d/app.log"
wait_for "kill -USR1 $tp && grep -q 'events in 2000,' '$d/t.err'" 300
kill -TERM $tp
wait_for "test -s '$d/t.rc'" 300
check_out "lout stopped, SIGTERM: ltail exits 0" "cat '$d/t.rc'" 0
check "lout stopped, SIGTERM: and says the last mark did not come back" \
	"grep -q 'the last mark did not come back within 3 s' '$d/t.err'"
check_out "lout stopped, SIGTERM: the position stays at what lout wrote" \
	"$PY '$ROT' offset '$d/pos' '$d/app.log'" 20000
kill -KILL $op
kill -CONT $op
wait $pipe 2>/dev/null
check_out "lout killed: the lines in transit were not written" \
	"lines '$d'" 1000
start "$d" "$d/app.log"
wait_for "test \$(sort -u '$d/out' | wc -l) -ge 2000" 300
stop
sort -u "$d/out" >"$d/all"
check "restart: the lines that were in transit are written" \
	"test -z \"\$(missing '$d' 2000)\""
