#!/bin/sh
# The durable pipeline with a disk buffer, ltail --end-to-end | lparse |
# lbuffer --dir -- lforward --ack, into lrecv | lout on the same machine,
# under a writer that appends and renames: kill -9 of lbuffer, of the
# receiver, of lbuffer's lforward, then of random stages, each restarted.
# lbuffer returns ltail's marks once the lines are stored in its directory,
# so ltail's position moves while the receiver is down, and a kill -9 of
# lbuffer then loses nothing: after each restart every written line
# arrives at least once.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
ROT="$DATA/ltail-rot.py"
N=60000
plan 8

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

# start DIR: the sending pipeline in the background; lforward gives a
# request up at once, lbuffer keeps the chunk and retries it
start() {
	rm -f "$1"/t.pid "$1"/p.pid "$1"/b.pid "$1"/t.rc
	{ bg "$1/t" ltail --end-to-end --end-to-end-timeout 3s -r \
		--pos-file "$1/pos" "$1/app.log*" 2>>"$1/t.err"
		echo $? >"$1/t.rc"; } |
		bg "$1/p" lparse -e '^(?<n>[0-9]+) ' 2>>"$1/p.err" |
		bg "$1/b" lbuffer --dir "$1/buf" --flush-interval 100ms \
		--retry-wait 50ms --retry-max-interval 300ms --retry-forever \
		--shutdown-timeout 2s -- lforward --ack --ack-timeout 2s \
		--heartbeat none --retry-max-times 0 "127.0.0.1:$port" \
		2>>"$1/b.err" &
	pipe=$!
	tp=$(pid_of "$1/t") pp=$(pid_of "$1/p") bp=$(pid_of "$1/b")
}
# stop [PID]: kill -9 of PID, then SIGTERM to the stages left
stop() {
	if [ $# = 1 ]; then
		kill -KILL "$1"
		wait_for "dead $1"
	fi
	kill -TERM $tp $pp $bp 2>/dev/null
	wait $pipe 2>/dev/null
}
lines() { wc -l <"$1/out" 2>/dev/null || echo 0; }
all_in() {
	sort -u "$1/out" >"$1/all"
	test -z "$(seq -f %06g 1 "$2" | comm -23 - "$1/all")"
}
# the lforward lbuffer runs now, if any
child() { pgrep -P "$bp" lforward | head -n 1; }

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
# lbuffer, the receiver, lbuffer's lforward, then random ones
victims="b rv f"
k=0
while [ $k -lt 6 ]; do
	k=$((k + 1))
	victims="$victims $(echo "t p b rv f" | tr ' ' '\n' | shuf -n 1)"
done
for victim in $victims; do
	i=$((i + 1))
	wait_for "test \$(lines '$d') -ge $((i * 4000))" 300
	case $victim in
	rv)
		recv_stop kill
		echo "# kill -9 of lrecv at $(lines "$d") lines out"
		recv "$d"
		;;
	f)
		wait_for 'test -n "$(child)"' 50
		c=$(child)
		[ -n "$c" ] && kill -KILL "$c"
		echo "# kill -9 of lbuffer's lforward ${c:-(none running)} at" \
			"$(lines "$d") lines out"
		;;
	*)
		eval "stop \$${victim}p"
		echo "# kill -9 of the $victim stage at $(lines "$d") lines out"
		start "$d"
		;;
	esac
done
wait $wpid
wait_for "all_in '$d' $N" 600
stop
recv_stop
check_out "kill -9 of lbuffer, the receiver, lforward, random stages: ltail \
exits 0 at the end" "cat '$d/t.rc'" 0
check "... and no line lost" "all_in '$d' $N"
check_out "... and ltail's position covers the last file (marks came back)" \
	"$PY '$ROT' offset '$d/pos' '$d/app.log'" "$(wc -c <"$d/app.log")"
dups=$(sort "$d/out" | uniq -d | wc -l)
echo "# $(lines "$d") lines out for $N, $dups of them more than once"
check "the rotated files were found again" "grep -q 'app.log.3' '$d/pos'"

# the receiver down: lbuffer stores the lines, so ltail's position moves;
# a kill -9 of lbuffer then, and a restart: once the receiver is back the
# lines of the outage arrive from lbuffer's directory
d=$T/o
mkdir "$d"
seq -f '%06g ........ end' 1 1000 >"$d/app.log"
: >"$d/out"
port=0
recv "$d"
start "$d"
wait_for "all_in '$d' 1000" 300
recv_stop
seq -f '%06g ........ end' 1001 2000 >>"$d/app.log"
# at: ltail's position in the log
at() { $PY "$ROT" offset "$d/pos" "$d/app.log"; }
check "receiver down: ltail's position still moves to the end (stored)" \
	"wait_for 'test \$(at) = 40000' 300"
stop "$bp"
check "kill -9 of lbuffer: the lines wait in its directory" \
	"ls '$d/buf' | grep -Eq '^chunk-.*\.(open|queued)\$'"
start "$d"
recv "$d"
wait_for "all_in '$d' 2000" 300
stop
recv_stop
check "receiver back: the 1000 lines of the outage arrive" "all_in '$d' 2000"
check_out "... and ltail exits 0" "cat '$d/t.rc'" 0
