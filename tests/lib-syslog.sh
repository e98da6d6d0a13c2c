# lib-syslog.sh - what the lsyslog tests share (sourced after lib.sh): the
# receiver tests/data/lsyslog-server.py (python3, not lkit's code)
PY=/usr/bin/python3
SRV="$DATA/lsyslog-server.py"

# srv NAME MODE [OPTION...]: a receiver (MODE tcp, udp or tls) capturing
# to $T/NAME.cap, its log in $T/NAME.log; $sport is its port.  srv_stop
# NAME: stop it.
srv() {
	_sv=$1 _mode=$2
	shift 2
	rm -f "$T/$_sv.port"
	$PY "$SRV" "$_mode" "$T/$_sv.port" --capture "$T/$_sv.cap" "$@" \
		>"$T/$_sv.log" 2>&1 &
	echo $! >"$T/$_sv.pid"
	wait_for "test -s '$T/$_sv.port'"
	sport=$(cat "$T/$_sv.port")
}
srv_stop() {
	kill "$(cat "$T/$1.pid")" 2>/dev/null
	wait "$(cat "$T/$1.pid")" 2>/dev/null
	return 0
}
