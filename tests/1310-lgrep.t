#!/bin/sh
# lgrep: what the cases cannot show: -c, counters, bad input, a large
# stream, live pipes and signals.
. "${0%/*}/lib.sh"
plan 17

printf '%s\n' '{"level":"WARN"}' '{"level":"INFO"}' '{"level":"ERROR"}' |
	lcat app.web >"$T/three.bin"
check_out "-c prints the number selected and writes no events" \
	"lgrep -c -r 'level WARN|ERROR' <'$T/three.bin'" 2
check_exit "-c exits 0 when something was selected" 0 \
	"lgrep -c -r 'level WARN' <'$T/three.bin'"
check_out "-c prints 0 when nothing was selected" \
	"lgrep -c -r 'level FATAL' <'$T/three.bin'" 0
check_exit "-c exits 1 when nothing was selected" 1 \
	"lgrep -c -r 'level FATAL' <'$T/three.bin'"
check_out "-c -v counts the others" \
	"lgrep -c -v -r 'level WARN' <'$T/three.bin'" 2
check_exit "empty input: nothing selected, exit 1" 1 "lgrep </dev/null"

lgrep --stats -r 'level WARN' <"$T/three.bin" >/dev/null 2>"$T/stats.err"
check "--stats: events in, out, selected, not selected" \
	"grep -q 'lgrep: events in 3, out 1, dropped 0, bytes in' '$T/stats.err' &&
	 grep -q 'selected 1, not selected 2' '$T/stats.err'"
printf '%s\n' '{"n":1}' '{"n":"x"}' | lcat t | lgrep --stats -j '.n + 1 > 0' \
	>/dev/null 2>"$T/jq.err"
check "--stats counts jq errors as dropped" \
	"grep -q 'events in 2, out 1, dropped 1' '$T/jq.err' &&
	 grep -q 'jq errors 1' '$T/jq.err' &&
	 grep -q 'dropped 1 events on jq errors' '$T/jq.err'"

# a large stream: every event is judged
yes '{"level":"WARN","msg":"m"}' | head -n 30000 >"$T/w.json"
yes '{"level":"INFO","msg":"m"}' | head -n 20000 >"$T/i.json"
cat "$T/w.json" "$T/i.json" "$T/w.json" | lcat t >"$T/big.bin"
check_out "80000 events: 60000 selected" \
	"lgrep -r 'level ^WARN\$' <'$T/big.bin' | lout -f json | wc -l" 60000
check_out "80000 events: -c agrees" \
	"lgrep -c -r 'level ^WARN\$' <'$T/big.bin'" 60000

# bad input
{ cat "$T/three.bin"; printf '\301'; cat "$T/three.bin"; } >"$T/bad.bin"
check_err "bad input: exit 3 with the offset" 3 "lgrep <'$T/bad.bin'" \
	"lgrep: stdin: byte"
check_out "bad input: the selected events before it are written" \
	"lgrep -r 'level WARN' <'$T/bad.bin' 2>/dev/null | lout -f json" \
	'{"level":"WARN"}'
check_out "--skip-invalid skips it and goes on" \
	"lgrep --skip-invalid -c -r 'level WARN' <'$T/bad.bin' 2>/dev/null" 2

# live pipes and signals
mkfifo "$T/in"
( lgrep -r 'n 1' <"$T/in" | lout -f json >"$T/live.out" ) &
exec 3>"$T/in"
echo '{"n":1}' | lcat t >&3
check "idle flush: a selected event passes while the input stays open" \
	"wait_for 'grep -q \"{\\\"n\\\":1}\" \"$T/live.out\"' 50"
exec 3>&-
wait
sigterm_run 'cat "$T/three.bin"' lgrep
check "SIGTERM: exit status 0 (something was selected)" "test $rc = 0"
check_out "SIGTERM: everything read was written" \
	"lout -f json <'$T/term.out' | wc -l" 3
check "--help lists the options" "lgrep --help | grep -q -- '--remove-tag-prefix'"
