# lib.sh - TAP helpers for the shell tests (sourced).  Each test file:
#   #!/bin/sh
#   . "${0%/*}/lib.sh"
#   plan N ... checks ...
set -u
export LC_ALL=C TZ=UTC
TESTS_DIR=$(cd "${0%/*}" && pwd)
DATA="$TESTS_DIR/data"
# Fluentd 1.18's Forward captures, part of the repository (see its README)
VECTORS="$DATA/vectors/forward"
if [ ! -r "$VECTORS/README.md" ]; then
	echo "Bail out! the Forward captures are missing: $VECTORS"
	exit 1
fi
[ -n "${LKIT_BIN:-}" ] && PATH="$LKIT_BIN:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/lkit-test.XXXXXX")
_n=0
_cleanup() {
	# stop anything a test left running in the background
	jobs -p 2>/dev/null | xargs -r kill 2>/dev/null
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

plan() { echo "1..$1"; }

_ok() { _n=$((_n + 1)); echo "ok $_n - $1"; }
_notok() { _n=$((_n + 1)); echo "not ok $_n - $1"; }

# check NAME CMD: passes if the shell command CMD exits 0
check() {
	if (eval "$2") >"$T/.out" 2>&1; then _ok "$1"; else
		_notok "$1"; sed 's/^/#   /' "$T/.out" | head -n 20; fi
}

# check_same NAME CMD EXPECTED-CMD: the two commands print the same
check_same() {
	(eval "$2") >"$T/.got" 2>"$T/.err"
	(eval "$3") >"$T/.want" 2>/dev/null
	if cmp -s "$T/.got" "$T/.want"; then _ok "$1"; else
		_notok "$1"
		diff "$T/.want" "$T/.got" | head -n 20 | sed 's/^/#   /'
		sed 's/^/#   stderr: /' "$T/.err" | head -n 5
	fi
}

# check_out NAME CMD EXPECTED-TEXT: CMD prints exactly the text (plus \n)
check_out() {
	_want=$3
	check_same "$1" "$2" 'printf "%s\n" "$_want"'
}

# check_exit NAME CODE CMD: CMD exits with CODE
check_exit() {
	(eval "$3") >"$T/.out" 2>&1
	rc=$?
	if [ "$rc" = "$2" ]; then _ok "$1"; else
		_notok "$1"; echo "#   exit $rc, want $2"
		sed 's/^/#   /' "$T/.out" | head -n 10; fi
}

# check_err NAME CODE CMD TEXT: exits CODE and stderr contains TEXT
check_err() {
	(eval "$3") >"$T/.out" 2>"$T/.err"
	rc=$?
	if [ "$rc" = "$2" ] && grep -qF -- "$4" "$T/.err"; then _ok "$1"; else
		_notok "$1"; echo "#   exit $rc (want $2), stderr:"
		sed 's/^/#   /' "$T/.err" | head -n 10; fi
}

skip() { _n=$((_n + 1)); echo "ok $_n - $1 # SKIP $2"; }

# hex2bin FILE.hex: the bytes of a captured vector
hex2bin() { xxd -r -p "$1"; }

# wait_for CMD [TENTHS]: poll CMD up to TENTHS/10 seconds (default 10 s)
wait_for() {
	_i=0
	while ! (eval "$1") >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -ge "${2:-100}" ] && return 1
		sleep 0.1
	done
}

# For pipelines killed stage by stage: bg NAME CMD... runs (execs) CMD with
# its pid in NAME.pid, as a stage of a pipeline in the background; pid_of
# NAME waits for that pid and prints it; dead PID: the process is gone or
# a zombie (its pipes are closed).
bg() {
	_b=$1
	shift
	sh -c 'echo $$ >"$0.pid.tmp" && mv "$0.pid.tmp" "$0.pid" && exec "$@"' \
		"$_b" "$@"
}
pid_of() { wait_for "test -s $1.pid" 100 && cat "$1.pid"; }
dead() { ! grep -qs '^State:[[:space:]]*[^Z[:space:]]' "/proc/$1/status"; }

# sigterm_run INPUT CMD...: CMD in the background on a fifo that stays open
# (fd 3), its output in $T/term.out and .err; the output of the shell
# command INPUT goes into the fifo; once CMD wrote something, SIGTERM; its
# exit status in $rc
sigterm_run() {
	_in=$1
	shift
	rm -f "$T/term.in"
	mkfifo "$T/term.in"
	"$@" <"$T/term.in" >"$T/term.out" 2>"$T/term.err" &
	_tpid=$!
	exec 3>"$T/term.in"
	(eval "$_in") >&3
	wait_for "test -s '$T/term.out'"
	kill -TERM $_tpid
	wait $_tpid
	rc=$?
	exec 3>&-
}

# tls_ca: a CA for the tests, $T/ca.pem and ca.key.  tls_cert NAME CN
# [SAN]: $T/NAME.pem and NAME.key, signed by it, with subjectAltName SAN
# (none if empty).  tls_certs: the CA, "server" for localhost and
# 127.0.0.1 and "client" for sender.
tls_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" \
		-subj /CN=lkit-test-ca -days 2 -out "$T/ca.pem" 2>/dev/null
}
tls_cert() {
	openssl req -newkey rsa:2048 -nodes -keyout "$T/$1.key" -subj "/CN=$2" \
		-out "$T/$1.csr" 2>/dev/null &&
	if [ -n "${3:-}" ]; then printf 'subjectAltName=%s\n' "$3"; fi \
		>"$T/$1.ext" &&
	openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-CAcreateserial -days 2 -extfile "$T/$1.ext" -out "$T/$1.pem" \
		2>/dev/null
}
tls_certs() {
	tls_ca && tls_cert server localhost 'DNS:localhost,IP:127.0.0.1' &&
	tls_cert client sender 'DNS:sender'
}

# lrecv_start NAME [ARG...]: an lrecv on a free loopback port (or $LISTEN)
# in the background, its output in $T/NAME.out and .err; sets $port and
# $p_NAME to its Forward port.  lrecv_stop NAME: SIGTERM, wait, and the
# exit status in $T/NAME.rc (and $?).
lrecv_start() {
	_name=$1
	shift
	rm -f "$T/$_name.port"
	lrecv --listen "${LISTEN:-127.0.0.1:0}" --port-file "$T/$_name.port" \
		"$@" >"$T/$_name.out" 2>"$T/$_name.err" 7>&- &
	echo $! >"$T/$_name.pid"
	wait_for "test -s '$T/$_name.port'" || echo "# lrecv $_name did not start"
	port=$(head -n 1 "$T/$_name.port")
	eval "p_$_name=\$port"
}
lrecv_stop() {
	kill "$(cat "$T/$1.pid")" 2>/dev/null
	wait "$(cat "$T/$1.pid")"
	_rc=$?
	echo $_rc >"$T/$1.rc"
	return $_rc
}
