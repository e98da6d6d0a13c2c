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
. "${0%/*}/lib-e2e.sh"
N=60000
plan 8

# start DIR: the sending pipeline in the background; lforward gives a
# request up at once, lbuffer keeps the chunk and retries it
start() {
	rm -f "$1"/t.pid "$1"/p.pid "$1"/b.pid "$1"/t.rc
	e2e_head "$1" "$1/app.log*" |
		bg "$1/b" lbuffer --dir "$1/buf" --flush-interval 100ms \
		--retry-wait 50ms --retry-max-interval 300ms --retry-forever \
		--shutdown-timeout 2s -- lforward --ack --ack-timeout 2s \
		--heartbeat none --retry-max-times 0 "127.0.0.1:$port" \
		2>>"$1/b.err" &
	pipe=$!
	tp=$(pid_of "$1/t") pp=$(pid_of "$1/p") bp=$(pid_of "$1/b")
	stages="$tp $pp $bp"
}
# the lforward lbuffer runs now, if any
child() { pgrep -P "$bp" lforward | head -n 1; }

d=$T/k
mkdir "$d"
: >"$d/app.log"
e2e_go "$d"
$PY "$ROT" write rename "$d/app.log" $N 8000 &
wpid=$!
i=0
# lbuffer, the receiver, lbuffer's lforward, then random ones
victims=$(e2e_victims "b rv f" "t p b rv f" 6)
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
e2e_go "$d"
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
