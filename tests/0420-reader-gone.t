#!/bin/sh
# A filter whose reader goes away ends at once with 128 + SIGPIPE, even
# while its input is idle, so a pipeline whose last stage died ends (and
# can be restarted) without waiting for the next line.
. "${0%/*}/lib.sh"
plan 14

cd "$T" || exit 1
# gone NAME CMD: runs `sleep 60 | CMD | (exits after 0.3 s)` and checks
# that CMD ends within 5 s with status 141
gone() {
	rm -f "$1.pid" "$1.rc"
	sleep 60 | { sh -c 'echo $$ >"$0.pid"; exec "$@"' "$1" $2 2>"$1.err"
		echo $? >"$1.rc"; } | { sleep 0.3; exit 3; } &
	wait_for "test -s '$1.rc'" 50
	check_out "$1: ends when its reader goes away while idle" \
		"cat '$1.rc' 2>/dev/null" 141
	check "$1: and says nothing" "test ! -s '$1.err'"
	kill "$(cat "$1.pid" 2>/dev/null)" 2>/dev/null
	pkill -f '^sleep 60$' 2>/dev/null
}
gone lparse "lparse -f none"
gone lreform "lreform a=b"
gone lgrep "lgrep --tag app.x"
gone lcat "lcat tag"
gone lout "lout"
# ltail follows a file that gets no line, with its own wait loop
: >"$T/idle.log"
gone ltail "ltail $T/idle.log"
# output to a file: nothing to watch, the program waits for input
sleep 60 | { lparse -f none >"$T/file.out"; echo $? >"$T/file.rc"; } &
sleep 1
check "output to a file: the filter goes on waiting" "test ! -s '$T/file.rc'"
pkill -f '^sleep 60$'
wait_for "test -s '$T/file.rc'" 50
check_out "output to a file: it ends with its input, exit 0" \
	"cat '$T/file.rc'" 0
