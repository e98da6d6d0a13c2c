#!/bin/sh
# The durable pipeline of the README, ltail --end-to-end | lparse | lreform
# | lforward --ack, into lrecv | lout on the same machine: kill -9 of each
# stage in turn, of the receiver, then of random stages, under a writer
# that appends and rotates; SIGTERM of the pipeline while the receiver is
# down.  After each restart every written line arrives at least once.
. "${0%/*}/lib.sh"
. "${0%/*}/lib-e2e.sh"
N=60000
e2e_need
plan 9

# start DIR: the sending pipeline in the background
start() {
	rm -f "$1"/t.pid "$1"/p.pid "$1"/r.pid "$1"/f.pid "$1"/t.rc
	e2e_head "$1" "$1/app.log*" |
		bg "$1/r" lreform via=lkit 2>>"$1/r.err" |
		bg "$1/f" lforward --ack --ack-timeout 2s --flush-interval 50ms \
		--retry-wait 50ms --retry-max-interval 300ms --retry-forever \
		--heartbeat none --shutdown-timeout 2s "127.0.0.1:$port" \
		2>>"$1/f.err" &
	pipe=$!
	tp=$(pid_of "$1/t") pp=$(pid_of "$1/p") rp=$(pid_of "$1/r")
	fp=$(pid_of "$1/f")
	stages="$tp $pp $rp $fp"
}

d=$T/k
mkdir "$d"
: >"$d/app.log"
e2e_go "$d"
$PY "$ROT" write rename "$d/app.log" $N 8000 &
wpid=$!
i=0
# each sending stage in turn, the receiver, then random stages
victims=$(e2e_victims "t p r f rv" "t p r f rv" 5)
for victim in $victims; do
	i=$((i + 1))
	wait_for "test \$(lines '$d') -ge $((i * 4000))" 300
	if [ $victim = rv ]; then
		recv_stop kill
		echo "# kill -9 of lrecv at $(lines "$d") lines out"
		recv "$d"
		continue
	fi
	eval "stop \$${victim}p"
	echo "# kill -9 of the $victim stage at $(lines "$d") lines out"
	start "$d"
done
wait $wpid
wait_for "all_in '$d' $N" 600
stop
recv_stop
check_out "kill -9 of stages and of the receiver: ltail exits 0 at the end" \
	"cat '$d/t.rc'" 0
check "kill -9 of each stage, the receiver, random stages: no line lost" \
	"all_in '$d' $N"
dups=$(sort "$d/out" | uniq -d | wc -l)
echo "# $(lines "$d") lines out for $N, $dups of them more than once"
check "the rotated files were found again" "grep -q 'app.log.3' '$d/pos'"

# SIGTERM of the pipeline while the receiver is down: lforward gives up
# what it holds, no mark comes back, the position stays; a restart once
# the receiver is back sends everything
d=$T/t
mkdir "$d"
seq -f '%06g ........ end' 1 1000 >"$d/app.log"
e2e_go "$d"
wait_for "test \$(lines '$d') -ge 1000 &&
	test \$($PY '$ROT' offset '$d/pos' '$d/app.log') = 20000" 300
recv_stop
seq -f '%06g ........ end' 1001 1500 >>"$d/app.log"
wait_for "kill -USR1 $tp && grep -q 'events in 1500,' '$d/t.err'" 300
stop
check_out "receiver down, SIGTERM: ltail exits 0" "cat '$d/t.rc'" 0
check "receiver down, SIGTERM: lforward says what it could not deliver" \
	"grep -q 'not delivered' '$d/f.err'"
check_out "receiver down, SIGTERM: the position stays at what was acked" \
	"$PY '$ROT' offset '$d/pos' '$d/app.log'" 20000
recv "$d"
start "$d"
wait_for "all_in '$d' 1500" 300
stop
recv_stop
check "receiver back, restart: the 500 lines of the outage arrive" \
	"all_in '$d' 1500"
check_out "receiver back, restart: ltail exits 0" "cat '$d/t.rc'" 0
check_out "receiver back, restart: the position covers every line" \
	"$PY '$ROT' offset '$d/pos' '$d/app.log'" 30000
