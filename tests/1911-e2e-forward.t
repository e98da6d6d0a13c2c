#!/bin/sh
# The durable pipeline of the README, ltail --end-to-end | lparse | lreform
# | lforward --ack, into lrecv | lout on the same machine: kill -9 of each
# stage in turn, of the receiver, then of random stages, under a writer
# that appends and rotates; SIGTERM of the pipeline while the receiver is
# down.  After each restart every written line arrives at least once.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
ROT="$DATA/ltail-rot.py"
N=60000
if ! ltail --help | grep -q -- --end-to-end; then
	echo "Bail out! ltail has no --end-to-end"
	exit 1
fi
plan 9

# recv DIR: lrecv on $port (0 the first time) | lout >>DIR/out
recv() {
	rm -f "$1"/rv.pid "$1"/ro.pid "$1/port"
	{ bg "$1/rv" lrecv --listen "127.0.0.1:$port" --port-file "$1/port" \
		2>>"$1/rv.err"; } |
		bg "$1/ro" lout -f single_value --key n >>"$1/out" &
	rpipe=$!
	rvp=$(pid_of "$1/rv") rop=$(pid_of "$1/ro")
	wait_for "test -s '$1/port'" 100
	port=$(cat "$1/port")
}
recv_stop() {
	[ $# = 1 ] && kill -KILL "$rvp"
	kill -TERM "$rvp" 2>/dev/null
	wait $rpipe 2>/dev/null
}

# start DIR: the sending pipeline in the background
start() {
	rm -f "$1"/t.pid "$1"/p.pid "$1"/r.pid "$1"/f.pid "$1"/t.rc
	{ bg "$1/t" ltail --end-to-end --end-to-end-timeout 3s -r \
		--pos-file "$1/pos" "$1/app.log*" 2>>"$1/t.err"
		echo $? >"$1/t.rc"; } |
		bg "$1/p" lparse -e '^(?<n>[0-9]+) ' 2>>"$1/p.err" |
		bg "$1/r" lreform via=lkit 2>>"$1/r.err" |
		bg "$1/f" lforward --ack --ack-timeout 2s --flush-interval 50ms \
		--retry-wait 50ms --retry-max-interval 300ms --retry-forever \
		--heartbeat none --shutdown-timeout 2s "127.0.0.1:$port" \
		2>>"$1/f.err" &
	pipe=$!
	tp=$(pid_of "$1/t") pp=$(pid_of "$1/p") rp=$(pid_of "$1/r")
	fp=$(pid_of "$1/f")
}
# stop [PID]: kill -9 of PID, then SIGTERM to the stages left
stop() {
	if [ $# = 1 ]; then
		kill -KILL "$1"
		wait_for "dead $1"
	fi
	kill -TERM $tp $pp $rp $fp 2>/dev/null
	wait $pipe 2>/dev/null
}
lines() { wc -l <"$1/out" 2>/dev/null || echo 0; }
all_in() {
	sort -u "$1/out" >"$1/all"
	test -z "$(seq -f %06g 1 "$2" | comm -23 - "$1/all")"
}

cd "$T" || exit 1
mkdir -m 700 run
export XDG_RUNTIME_DIR=$T/run

d=$T/k
mkdir "$d"
: >"$d/app.log"
: >"$d/out"
port=0
recv "$d"
start "$d"
$PY "$ROT" write rename "$d/app.log" $N 8000 &
wpid=$!
i=0
# each sending stage in turn, the receiver, then random stages
victims="t p r f rv"
k=0
while [ $k -lt 5 ]; do
	k=$((k + 1))
	victims="$victims $(echo "t p r f rv" |
		tr ' ' '\n' | shuf -n 1)"
done
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
: >"$d/out"
port=0
recv "$d"
start "$d"
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
