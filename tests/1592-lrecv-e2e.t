#!/bin/sh
# lrecv --end-to-end: a Forward ack or an HTTP answer goes only once the
# last lkit stage of the pipeline has delivered the events (its mark came
# back); kill -9 of a stage loses no acked event; a pipeline whose end
# returns no mark gets no ack (or 503), a warning, and bounded marks.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
CL="$DATA/recve2e-client.py"
NODE_DIR="$TESTS_DIR/node"
# without the option every wait below would run to its limit
if ! lrecv --help | grep -q -- --end-to-end; then
	echo "Bail out! lrecv has no --end-to-end"
	exit 1
fi
plan 31

# stats DIR: lrecv's counters (SIGUSR1) added to DIR/r.err; count DIR NAME:
# the counter NAME (events in, marks made) there now; made DIR: the marks
# made so far; wait_made DIR N: waits until lrecv made more than N
stats() {
	_l=$(wc -l <"$1/r.err")
	kill -USR1 "$(cat "$1/r.pid")"
	wait_for "test \$(wc -l <'$1/r.err') -gt $_l" 100
}
count() {
	stats "$1"
	sed -n "s/.*$2 \\([0-9]*\\),.*/\\1/p" "$1/r.err" | tail -n 1
}
made() { count "$1" 'marks made'; }
wait_made() { wait_for "test \$(made '$1') -gt $2" 200; }
# recv DIR [ARG...]: lrecv --end-to-end on free ports (Forward and HTTP)
# into DIR/r.err; its ports in $port and $hport
recv() {
	_d=$1
	shift
	rm -f "$_d/port"
	bg "$_d/r" lrecv --listen 127.0.0.1:0 --http 127.0.0.1:0 \
		--port-file "$_d/port" --end-to-end "$@" 2>>"$_d/r.err"
	echo $? >"$_d/r.rc"
}
ports() {
	wait_for "test -s '$1/port'" 100
	port=$(head -n 1 "$1/port")
	hport=$(sed -n 's/^http //p' "$1/port")
}

cd "$T" || exit 1
mkdir -m 700 run
export XDG_RUNTIME_DIR=$T/run

# --- lrecv --end-to-end | lout: lout stopped, the ack waits ---------------
d=$T/a
mkdir "$d"
{ recv "$d" --stats; } | bg "$d/o" lout -f json >"$d/out" &
pa=$!
rp=$(pid_of "$d/r") op=$(pid_of "$d/o")
ports "$d"
kill -STOP $op
$PY "$CL" held $port "$d/out" 100 >"$d/client" &
cpid=$!
wait_made "$d" 0
check 'lout stopped: the events and a mark are written, and no ack yet' \
	"test ! -s '$d/client' && grep -q 'events in 100, out 100,' '$d/r.err'"
kill -CONT $op
wait $cpid
check_out 'lout continued: the ack comes, once lout wrote the 100 events' \
	"cat '$d/client'" "acked
output 100"
# an HTTP client the same way
n=$(made "$d")
kill -STOP $op
curl -s -o "$d/body" -w '%{http_code}\n' --max-time 60 \
	-d 'json={"http":1}' "http://127.0.0.1:$hport/e2e.http" >"$d/code" &
cpid=$!
wait_made "$d" $n
check 'lout stopped: an HTTP POST is not answered yet' \
	"test ! -s '$d/code' && grep -q 'events in 101, out 101,' '$d/r.err'"
kill -CONT $op
wait $cpid
check 'lout continued: the POST is answered 200 once its event is written' \
	"test \"\$(cat '$d/code')\" = 200 && grep -q '\"http\":1' '$d/out'"
# a mark that a peer sends is neither passed on nor trusted
mkdir -m 700 "$d/forge"
check_out 'a mark sent by a client is not passed on to the sink' \
	"$PY '$CL' forge $port '$d/forge'" "ack
returned 0"
# SIGTERM while an ack is held: lrecv waits for its mark, then acks
n=$(made "$d")
kill -STOP $op
$PY "$CL" held $port "$d/out" 10 >"$d/client2" &
cpid=$!
wait_made "$d" $n
kill -TERM $rp
kill -CONT $op
wait $cpid
wait $pa
check_out 'SIGTERM with an ack held: it is sent when the mark comes back' \
	"cat '$d/client2'" "acked
output 112"
check_out 'SIGTERM: lrecv exits 0' "cat '$d/r.rc'" 0
check '--stats: the marks made, all returned' \
	"grep 'marks made' '$d/r.err' | tail -n 1 | grep -q 'marks made \\([1-9][0-9]*\\), returned \\1, replies given up 0$'"

# --- lrecv --end-to-end | lparse | lgrep | lout -------------------------
d=$T/b
mkdir "$d"
{ recv "$d" --stats; } |
	lparse -e '^n=(?<n>[0-9]+) (?<what>[a-z]+)$' |
	lgrep -x 'what ^drop$' |
	bg "$d/o" lout -f json >"$d/out" &
pb=$!
rp=$(pid_of "$d/r") op=$(pid_of "$d/o")
ports "$d"
kill -STOP $op
$PY "$CL" held $port "$d/out" 100 >"$d/client" &
cpid=$!
wait_made "$d" 0
check 'lparse | lgrep | lout, lout stopped: no ack yet' \
	"test ! -s '$d/client' && grep -q 'events in 100, out 100,' '$d/r.err'"
kill -CONT $op
wait $cpid
check_out 'lout continued: the ack comes once the 50 events kept are written' \
	"cat '$d/client'" "acked
output 50"
kill -TERM $rp
wait $pb
check 'and lparse passed, lgrep dropped, what they were to' \
	"test \$(grep -c '\"what\":\"keep\"' '$d/out') = 50 && ! grep -q drop '$d/out'"

# --- kill -9 of a stage while a client sends chunks and resends those not
# acked: every chunk acked is in the output, at the kill and at the end ---
d=$T/k
mkdir "$d"
: >"$d/out"
N=400
K=25
start() {
	rm -f "$d"/*.pid
	{ recv "$d" --end-to-end-timeout 3s; } |
		bg "$d/p" lparse -e '^(?<ck>[0-9]+-[0-9]+)$' 2>>"$d/p.err" |
		bg "$d/o" lout -f single_value --key ck >>"$d/out" &
	pk=$!
	rp=$(pid_of "$d/r") pp=$(pid_of "$d/p") op=$(pid_of "$d/o")
	ports "$d"
}
# all_dead: every stage is gone
all_dead() { dead $rp && dead $pp && dead $op; }
acked() { cat "$d/progress" 2>/dev/null || echo 0; }
# missing A: the events of chunks 0 to A-1 not in the output, one a line
missing() {
	awk -v n="$1" -v k=$K 'BEGIN { for (c = 0; c < n; c++)
		for (j = 0; j < k; j++) print c "-" j }' | sort >"$d/want"
	sort -u "$d/out" | comm -23 "$d/want" -
}
start
$PY "$CL" chunks "$d/port" $N $K "$d/progress" >"$d/client" &
cpid=$!
wait_for "test \$(acked) -ge 100" 600
kill -KILL $op
wait_for all_dead 300
wait $pk 2>/dev/null
a=$(acked)
echo "# kill -9 of lout at $a chunks acked"
wait_for "test -s '$d/r.rc'" 100
check_out 'kill -9 of lout: lrecv ends as its reader went away' \
	"cat '$d/r.rc'" 141
check "kill -9 of lout: the $a chunks acked are in the output" \
	"test -z \"\$(missing $a)\""
start
wait_for "test \$(acked) -ge 200" 600
kill -STOP $op
kill -KILL $pp
kill -CONT $op
wait_for all_dead 300
wait $pk 2>/dev/null
a=$(acked)
echo "# kill -9 of lparse at $a chunks acked"
check "kill -9 of lparse (lout stopped): the $a chunks acked are in the output" \
	"test -z \"\$(missing $a)\""
start
wait $cpid
kill -TERM $rp
wait $pk
echo "# $(cat "$d/client"), $(wc -l <"$d/out") events out for $((N * K))"
check "the client got every ack" "grep -q '^acked $N of $N,' '$d/client'"
check 'the chunks not acked at a kill were sent again' \
	"test \$(sed 's/.*, sent \([0-9]*\),.*/\1/' '$d/client') -gt $N"
check 'no event lost' "test -z \"\$(missing $N)\""

# --- npm's fluent-logger, requireAckResponse --------------------------------
why=
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	why="node or npm not installed"
elif [ ! -d "$NODE_DIR/node_modules/fluent-logger" ] ||
    [ ! -d "$NODE_DIR/node_modules/@fluent-org/logger" ]; then
	timeout 180 npm install --prefix "$NODE_DIR" --no-audit --no-fund \
		>"$T/npm.log" 2>&1 || why="npm install failed (registry unreachable?)"
fi
client() { timeout 30 node "$NODE_DIR/clients.js" "$@" 2>/dev/null | tail -n 1; }
d=$T/n
mkdir "$d"
{ recv "$d"; } | lout >"$d/out" &
pn=$!
rp=$(pid_of "$d/r")
ports "$d"
for mode in PackedForward Message; do
	if [ -n "$why" ]; then
		skip "fluent-logger $mode" "$why"
		continue
	fi
	check "fluent-logger $mode with acks: each of 100 acked events is written" \
		"test \"\$(client fluent-logger $mode $port 100)\" = 'sent 100' &&
		test \$(grep -c ' node.logger.$mode: ' '$d/out') = 100"
done
kill -TERM $rp
wait $pn

# --- the end of the pipeline is not an lkit sink ---------------------------
d=$T/c
mkdir "$d"
{ recv "$d" --end-to-end-timeout 1s --stats; } | cat >/dev/null &
pc=$!
rp=$(pid_of "$d/r")
ports "$d"
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$rp/status"; }
$PY "$CL" flood $port 10 >"$d/flood" 2>"$d/flood.err" &
cpid=$!
wait_for "grep -q 'no mark came back' '$d/r.err'" 100
wait_made "$d" 63
e1=$(count "$d" 'events in')
rss1=$(rss)
wait $cpid
e2=$(count "$d" 'events in')
rss2=$(rss)
echo "# $(cat "$d/flood.err"); lrecv VmRSS $rss1 kB, then $rss2 kB"
echo "# events read: $e1 when 64 marks were out, $e2 at the end"
check_out 'cat at the end: the flooding client got no ack' "cat '$d/flood'" \
	'acks 0'
check 'a warning names the likely cause' \
	"grep -q 'no mark came back for 1 s: is the end of the pipeline an lkit sink' '$d/r.err'"
check 'a warning says the chunks were not acked' \
	"grep -q 'not acked: the events of .* not confirmed delivered within 1 s' '$d/r.err'"
stats "$d"
check 'marks outstanding are bounded (64)' \
	"grep 'marks made' '$d/r.err' | tail -n 1 | grep -q 'marks made 64, returned 0,'"
check 'then lrecv stops reading (but for a request now and then)' \
	"test \$((e2 - e1)) -lt \$((e1 / 10))"
check 'nor does its memory grow, while the client floods on' \
	"test \$((rss2 - rss1)) -lt 16384"
check_out 'an HTTP client gets 503, not a false 200' \
	"curl -s -o '$d/body' -w '%{http_code}\n' --max-time 30 \
	-d 'json={\"a\":1}' http://127.0.0.1:$hport/e2e.cat" 503
check 'the 503 says why' "grep -q 'not confirmed within --end-to-end-timeout' '$d/body'"
kill -TERM $rp
wait $pc
check_out 'lrecv exits 0' "cat '$d/r.rc'" 0

# --- the reader of stdout goes away while lrecv is idle: it ends at once,
# rather than spin on the error epoll reports --------------------------------
d=$T/i
mkdir "$d"
{ recv "$d"; } | bg "$d/o" sleep 60 &
pi=$!
rp=$(pid_of "$d/r") op=$(pid_of "$d/o")
ports "$d"
kill -TERM $op
wait $pi 2>/dev/null
wait_for "test -s '$d/r.rc'" 100
check_out 'the reader of stdout went away: lrecv exits 141 at once' \
	"cat '$d/r.rc'" 141

# --- options ----------------------------------------------------------------
check_err '--end-to-end-timeout 0 is a usage error' 2 \
	'lrecv --end-to-end --end-to-end-timeout 0' 'must be above 0'
check_err '--end-to-end-timeout without --end-to-end: a warning' 2 \
	'lrecv --end-to-end-timeout 1s --listen 127.0.0.1:99999' \
	'--end-to-end-timeout is used only with --end-to-end'
