# lib-e2e.sh - what the tests of pipelines killed stage by stage share
# (sourced after lib.sh): ltail --end-to-end | lparse at the head of a
# pipeline, lrecv | lout as its receiver, stopping it, counting the lines.
# The writer is tests/data/ltail-rot.py.  It makes $T the working
# directory and $T/run the XDG_RUNTIME_DIR.
PY=/usr/bin/python3
ROT="$DATA/ltail-rot.py"

# e2e_need: without ltail --end-to-end every wait would run to its limit
e2e_need() {
	if ! ltail --help | grep -q -- --end-to-end; then
		echo "Bail out! ltail has no --end-to-end"
		exit 1
	fi
}

# e2e_head DIR PATTERN: ltail --end-to-end -r of PATTERN, its position in
# DIR/pos and its exit status in DIR/t.rc, | lparse taking the line number
# as n, to stdout; the stages are bg DIR/t and DIR/p (remove DIR/t.pid,
# DIR/p.pid and DIR/t.rc first)
e2e_head() {
	{ bg "$1/t" ltail --end-to-end --end-to-end-timeout 3s -r \
		--pos-file "$1/pos" "$2" 2>>"$1/t.err"
		echo $? >"$1/t.rc"; } |
		bg "$1/p" lparse -e '^(?<n>[0-9]+) ' 2>>"$1/p.err"
}

# stop [PID]: kill -9 of PID, then SIGTERM to the stages left ($stages,
# set by the test's start); waits for the pipeline $pipe to end
stop() {
	if [ $# = 1 ]; then
		kill -KILL "$1"
		wait_for "dead $1"
	fi
	kill -TERM $stages 2>/dev/null
	wait $pipe 2>/dev/null
}

# recv DIR: lrecv on $port (0 the first time) | lout >>DIR/out; sets
# $port.  recv_stop [kill]: (kill -9, then) SIGTERM of that lrecv
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
# e2e_go DIR: DIR/out emptied, recv DIR on a new port, then the test's
# start DIR
e2e_go() {
	: >"$1/out"
	port=0
	recv "$1"
	start "$1"
}

# e2e_victims FIRST SET N: the stages to kill, the words of FIRST, then N
# picked at random from SET
e2e_victims() {
	_v=$1 _k=0
	while [ $_k -lt "$3" ]; do
		_k=$((_k + 1))
		_v="$_v $(echo "$2" | tr ' ' '\n' | shuf -n 1)"
	done
	echo "$_v"
}

# lines DIR: the lines in DIR/out; all_in DIR N: DIR/out has each line
# number 1..N (at least once)
lines() { wc -l <"$1/out" 2>/dev/null || echo 0; }
all_in() {
	sort -u "$1/out" >"$1/all"
	test -z "$(seq -f %06g 1 "$2" | comm -23 - "$1/all")"
}

cd "$T" || exit 1
mkdir -m 700 run
export XDG_RUNTIME_DIR=$T/run
