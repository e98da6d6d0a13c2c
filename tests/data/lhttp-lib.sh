# lhttp-lib.sh - what the lhttp tests share (sourced after lib.sh): the
# scripted server of lhttp-server.py and the events of marks.py
PY=/usr/bin/python3
SRV="$DATA/lhttp-server.py"
M="$PY $DATA/marks.py"
# every run is bounded
LH="timeout -k 2 60 lhttp"

# srv_start NAME [ARG...]: a server on a free port, logging to $T/NAME.log;
# sets U to its URL (http://127.0.0.1:PORT)
srv_start() {
	_s=$1
	shift
	rm -f "$T/$_s.port" "$T/$_s.log"
	$PY "$SRV" serve "$T/$_s.port" "$T/$_s.log" "$@" >"$T/$_s.out" 2>&1 &
	echo $! >"$T/$_s.pid"
	wait_for "test -s '$T/$_s.port'" || echo "# server $_s did not start"
	U="http://127.0.0.1:$(cat "$T/$_s.port" 2>/dev/null)"
}
srv_stop() {
	kill "$(cat "$T/$1.pid")" 2>/dev/null
	wait "$(cat "$T/$1.pid")" 2>/dev/null
	return 0
}
# show NAME WHAT: what the server NAME recorded (lhttp-server.py show)
show() { $PY "$SRV" show "$T/$1.log" "$2"; }
# ev SPEC...: events (marks.py stream): eN is N events, tag t, time
# 1700000000 + i, record {"i": i, "message": "{\"j\": i}"}
ev() { $M stream "$@"; }
# reap PID: waits for a background lhttp started without timeout(1) (which
# would pass a signal on twice: to it and to its process group), killing
# it after 60 s; returns its exit status
reap() {
	(
		_i=0
		while kill -0 "$1" 2>/dev/null && [ $_i -lt 600 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -9 "$1" 2>/dev/null
	) &
	_wd=$!
	wait "$1"
	_rc=$?
	kill $_wd 2>/dev/null
	wait $_wd 2>/dev/null
	return $_rc
}
