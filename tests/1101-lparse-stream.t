#!/bin/sh
# lparse: the stream around the parsing: bad input, --skip-invalid, --stats,
# failure reports, idle flush, signals, --help, --estimate-current-event.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 29

RX='^(?<time>\S+ \S+) - \[(?<level>\S+)\] (?<msg>.+)$'
TF='%Y-%m-%d %H:%M:%S,%L'

# --help and --version
lparse --help >"$T/help" 2>&1
check "--help exits 0 and lists the options" \
	"grep -q -- '--on-error' '$T/help' && grep -q -- '--hash-value-field' '$T/help'"
check "--help names every option of the man page" \
	"for o in \$(grep -o '^\.It Fl -[a-z0-9-]*' '$TESTS_DIR/../man/lparse.1' | sed 's/.*Fl -//'); do
		grep -q -- \"--\$o\" '$T/help' || { echo \"missing \$o\"; exit 1; }; done"
check_exit "--version exits 0" 0 "lparse --version"
check_err "an unknown option is a usage error" 2 "lparse --nope" "usage: lparse"
check_err "an unknown --format names the choices" 2 "lparse -f yaml </dev/null" \
	"bad value 'yaml' for --format: regexp, ltsv, "
check_err "an unknown --time-type names the choices" 2 \
	"lparse -f json --time-type x </dev/null" \
	"bad value 'x' for --time-type: "

# bad input bytes: the good events before pass, then exit 3 with the offset
printf '{"message":"2017-08-18 19:39:39,000 - [INFO] a"}\n' | lcat t >"$T/one.bin"
{ cat "$T/one.bin"; printf '\301\301'; cat "$T/one.bin"; } >"$T/bad.bin"
check_err "bad input bytes: exit 3 naming the byte" 3 \
	"lparse --regex '$RX' --time-format '$TF' <'$T/bad.bin'" \
	"lparse: stdin: byte $(wc -c <"$T/one.bin")"
lparse --regex "$RX" --time-format "$TF" <"$T/bad.bin" 2>/dev/null |
	lout -f json >"$T/bad.out"
check_out "bad input bytes: the event before them is written" \
	"cat '$T/bad.out'" '{"level":"INFO","msg":"a"}'
check_out "--skip-invalid: both events pass" \
	"lparse --skip-invalid --regex '$RX' --time-format '$TF' <'$T/bad.bin' 2>/dev/null | lout -f json | wc -l | tr -d ' '" 2
check_err "--skip-invalid: says what it skipped" 0 \
	"lparse --skip-invalid --regex '$RX' <'$T/bad.bin' >/dev/null" \
	"skipped 2 bytes of invalid input in 1 places"

check_err "--max-event-size: a bigger event is bad input" 3 \
	"lparse -f none --max-event-size 20 <'$T/one.bin'" \
	"event larger than 20 bytes"
check_err "--time-format without a time key is said to be unused" 0 \
	"lparse -f csv --keys a --time-format %s </dev/null" \
	"no time key, so the time format and type are not used"

# failures: the first is reported, the rest counted; a summary at exit
printf '{"message":"bad %s"}\n' 1 2 3 4 5 | lcat t >"$T/five.bin"
lparse --regex '^ok (?<n>.*)' <"$T/five.bin" >/dev/null 2>"$T/five.err"
check_out "failures: one report in the same second, then the summary" \
	"cat '$T/five.err'" "lparse: event 1, tag t: pattern not matched: \"bad 1\"
lparse: 5 of 5 events did not parse (passed on unchanged)"
awk 'BEGIN { s = "x"; while (length(s) < 300) s = s s; printf "{\"message\":\"%s\"}\n", s }' |
	lcat t | lparse --regex '^ok (?<n>.*)' 2>&1 >/dev/null | head -n 1 >"$T/long.err"
check "failures: long text is cut in the report" \
	"grep -q 'xxx\"\\.\\.\\.\$' '$T/long.err' && test \$(wc -c <'$T/long.err') -lt 300"
check_out "--stats counts the failures" \
	"lparse --stats --regex '^ok (?<n>.*)' --on-error drop <'$T/five.bin' 2>&1 >/dev/null | tail -n 1 | sed 's/, bytes[^,]*, out [0-9]*//'" \
	"lparse: events in 5, out 0, dropped 5, parse failures 5"
check_out "a missing field is a failure that names it" \
	"echo '{\"log\":1}' | lcat t | lparse -f none 2>&1 >/dev/null | head -n 1" \
	"lparse: event 1, tag t: no field 'message'"
check_out "a field that is not text is a failure" \
	"echo '{\"message\":[1]}' | lcat t | lparse -f none 2>&1 >/dev/null | head -n 1" \
	"lparse: event 1, tag t: field 'message' is not a string"

# the bench log parses completely
sh "$TESTS_DIR/../bench/jsonl.sh" "$TESTS_DIR/../bench/sample.log" |
	lcat t >"$T/sample.bin"
check_out "the td-agent sample: every line parses" \
	"lparse --stats --regex '$RX' --time-format '$TF' <'$T/sample.bin' 2>&1 >/dev/null | sed 's/.*parse failures/failures/'" \
	"failures 0"
check_out "the td-agent sample: as many events out as in" \
	"lparse --regex '$RX' --time-format '$TF' <'$T/sample.bin' | lout -f json | wc -l | tr -d ' '" \
	"$(wc -l <"$TESTS_DIR/../bench/sample.log" | tr -d ' ')"

# bytes that are not UTF-8 are matched and kept as they are
$PY -c 'import msgpack, sys; sys.stdout.buffer.write(msgpack.packb(["t", 1, {"message": b"\xffab cd"}], use_bin_type=True))' >"$T/binmsg.bin"
check_out "a bin message is parsed like text" \
	"lparse --regex '^(?<a>\S+) (?<b>\S+)$' <'$T/binmsg.bin' | lout -f json" \
	'{"a":"\udcffab","b":"cd"}'

# --estimate-current-event: no time field means now, not the event's time
echo '{"_t":1000,"message":"x"}' | lcat --time-key _t t >"$T/old.bin"
check_out "without --estimate-current-event the event keeps its time" \
	"lparse -f none <'$T/old.bin' | lout -f json --time-key t --time-type unixtime" \
	'{"message":"x","t":1000}'
now=$(date +%s)
check "--estimate-current-event: the time is now" \
	"t=\$(lparse -f none --estimate-current-event <'$T/old.bin' | lout -f json --time-key t --time-type unixtime | sed 's/.*\"t\"://; s/}//'); test \$((t - $now)) -ge -5 && test \$((t - $now)) -le 60"

# idle flush: an event passes while the input stays open
mkfifo "$T/in"
( lparse -f none <"$T/in" | lout -f json >"$T/live.out" ) &
exec 3>"$T/in"
echo '{"message":"one"}' | lcat t >&3
check "idle flush: the first event shows while the input is open" \
	"wait_for 'grep -q one \"$T/live.out\"' 50"
echo '{"message":"two"}' | lcat t >&3
check "idle flush: and the next one" "wait_for 'grep -q two \"$T/live.out\"' 50"
exec 3>&-
wait

# SIGTERM: finish, flush, exit 0; SIGUSR1: counters, and carry on
mkfifo "$T/in2"
lparse -f none <"$T/in2" >"$T/term.out" 2>"$T/term.err" &
pid=$!
exec 3>"$T/in2"
printf '{"message":"a"}\n{"log":"b"}\n' | lcat t >&3
wait_for "test -s '$T/term.out'"
kill -USR1 $pid
check "SIGUSR1: counters with the parse failures" \
	"wait_for 'grep -q \"lparse: events in 2, out 2, dropped 0, .*parse failures 1\" \"$T/term.err\"'"
kill -TERM $pid
wait $pid
rc=$?
exec 3>&-
check "SIGTERM: exit status 0" "test $rc = 0"
check_out "SIGTERM: everything read was written" \
	"lout -f json <'$T/term.out'" '{"message":"a"}
{"log":"b"}'

# a closed downstream ends lparse quietly, as SIGPIPE would
yes '{"message":"2017-08-18 19:39:39,000 - [INFO] fill the pipe"}' |
	head -n 100000 | lcat t >"$T/many.bin"
( lparse --regex "$RX" <"$T/many.bin" 2>"$T/pipe.err"; echo $? >"$T/rc" ) |
	head -c 10 >/dev/null
check_out "closed downstream: exit 141 like SIGPIPE" "cat '$T/rc'" 141
check "closed downstream: nothing on stderr" "test ! -s '$T/pipe.err'"
