#!/bin/sh
# What every program does the same way: idle flush, SIGTERM, SIGUSR1, a
# closed downstream pipe.
. "${0%/*}/lib.sh"
plan 9

# one event typed into a live pipeline shows at once (no waiting for more)
mkfifo "$T/in"
( lcat t <"$T/in" | lout -f json >"$T/live.out" ) &
exec 3>"$T/in"
echo '{"n":1}' >&3
check "idle flush: an event passes lcat | lout while the input stays open" \
	"wait_for 'grep -q \"{\\\"n\\\":1}\" \"$T/live.out\"' 50"
echo '{"n":2}' >&3
check "idle flush: and the next one too" \
	"wait_for 'grep -q \"{\\\"n\\\":2}\" \"$T/live.out\"' 50"
exec 3>&-
wait

# SIGTERM: finish, flush, exit 0
printf '{"a":1}\n{"a":2}\n' | lcat t >"$T/two.bin"
sigterm_run 'cat "$T/two.bin"' lout -f json
check "SIGTERM: exit status 0" "test $rc = 0"
check_out "SIGTERM: everything read was written" "wc -l <'$T/term.out'" 2

# SIGUSR1: counters on stderr, and the program goes on
mkfifo "$T/in3"
lout -f json <"$T/in3" >"$T/usr1.out" 2>"$T/usr1.err" &
pid=$!
exec 3>"$T/in3"
printf '{"a":1}\n' | lcat t >&3
wait_for "test -s '$T/usr1.out'"
kill -USR1 $pid
check "SIGUSR1: prints the counters" \
	"wait_for 'grep -q \"lout: events in 1, out 1\" \"$T/usr1.err\"'"
printf '{"a":2}\n' | lcat t >&3
exec 3>&-
wait $pid
check "SIGUSR1: and carries on" "test \$(wc -l <'$T/usr1.out') = 2"

# a closed downstream ends the program quietly, as SIGPIPE would
yes '{"k":"some text to fill the pipe quickly"}' | head -n 200000 >"$T/many.json"
lcat t <"$T/many.json" 2>"$T/pipe.err" | head -c 10 >/dev/null
check "closed downstream: lcat says nothing" "test ! -s '$T/pipe.err'"
lcat t <"$T/many.json" >"$T/many.bin"
( lout <"$T/many.bin" 2>"$T/pipe2.err"; echo $? >"$T/rc" ) | head -n 1 >/dev/null
check_out "closed downstream: lout exits 141 like SIGPIPE" "cat '$T/rc'" 141
check "closed downstream: lout says nothing" "test ! -s '$T/pipe2.err'"
