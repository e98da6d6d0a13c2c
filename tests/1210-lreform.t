#!/bin/sh
# lreform: what the cases cannot show: the host name, event times, binary
# values through jq, many tags, bad input, counters, live pipes, signals.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 25

ev() { lcat --time-key t "${1:-app.web}"; }
check_out "\${hostname} is the host's name" \
	"echo '{}' | lcat t | lreform 'h=\${hostname}' | lout -f single_value --key h" \
	"$(uname -n)"

check_out "\${time} is in the local zone of TZ" \
	"echo '{\"t\":1502880723}' | ev | TZ=Asia/Tokyo lreform 'x=\${time}' | lout -f single_value --key x" \
	'2017-08-16 19:52:03 +0900'

# --renew-time-key
printf '%s\n' '{"t":1502880723,"at":1600000000}' \
	'{"t":1502880723,"at":1600000000.25}' \
	'{"t":1502880723,"at":"1600000001.5"}' \
	'{"t":1502880723,"at":"soon"}' '{"t":1502880723}' | ev >"$T/times.bin"
lreform --renew-time-key at <"$T/times.bin" 2>"$T/times.err" |
	lout -f out_file --utc --time-format '%s.%L' | cut -f1 >"$T/times.out"
check_out "--renew-time-key: integers, floats and numeric strings set the time" \
	"cat '$T/times.out'" '1600000000.000
1600000000.250
1600000001.500
1502880723.000
1502880723.000'
check "--renew-time-key: a value that is not a time is said once" \
	"grep -q 'event 4: field at is not a unix time' '$T/times.err' &&
	 grep -q '1 events kept their time' '$T/times.err'"
check_out "--renew-time-key sees fields that lreform adds" \
	"echo '{}' | lcat t | lreform --renew-time-key at at=1500000000 | lout -f out_file --utc | cut -f1" \
	'2017-07-14T02:40:00+0000'

# options after KEY=VALUE, and -- to end them
check_out "options may follow KEY=VALUE" \
	"echo '{}' | lcat t | lreform a=1 -t new b=2 | lout -f out_file | cut -f2-" \
	'new	{"a":"1","b":"2"}'
check_out "-- ends the options" \
	"echo '{}' | lcat t | lreform -- -t=x | lout -f json" '{"-t":"x"}'

# many tags: the tag cache keeps each tag's values apart
i=0
while [ $i -lt 300 ]; do echo "{\"i\":$i}" | lcat "app.t$i"; i=$((i + 1)); done >"$T/tags.bin"
lreform 'p=${tag_parts[1]}' -t 'x.${tag_parts[-1]}' <"$T/tags.bin" |
	lout -f out_file | awk -F'\t' '{ print $2, $3 }' >"$T/tags.out"
check "300 tags: every event gets its own tag's values" \
	"awk '{ n = substr(\$1, 4); if (\$2 != \"{\\\"i\\\":\" n \",\\\"p\\\":\\\"t\" n \"\\\"}\") exit 1; c++ } END { exit c != 300 }' '$T/tags.out'"
cat "$T/tags.bin" "$T/tags.bin" | lreform 'p=${tag_parts[1]}' | lout -f json | sort | uniq -c | awk '$1 != 2' >"$T/twice"
check "300 tags twice over: cached values stay right" "test ! -s '$T/twice'"

# binary values through jq: untouched bin, ext and float32 keep their bytes
$PY -c '
import msgpack, sys
ev = [ "t", msgpack.ExtType(0, (1502880723).to_bytes(4, "big") + (5).to_bytes(4, "big")),
	{"b": b"\x00\xffraw", "e": msgpack.ExtType(7, b"xy"), "f": 1.5, "n": 1,
	 "et": msgpack.ExtType(0, (1502880723).to_bytes(4, "big") + bytes(4))} ]
sys.stdout.buffer.write(msgpack.packb(ev, use_bin_type=True, use_single_float=True))
' >"$T/bin.mp"
lreform -j '.n += 1' <"$T/bin.mp" | $PY -c '
import msgpack, sys
t, tm, r = msgpack.unpackb(sys.stdin.buffer.read(), raw=False, strict_map_key=False)
assert r["b"] == b"\x00\xffraw", r
assert r["e"] == msgpack.ExtType(7, b"xy"), r
assert r["et"] == msgpack.ExtType(0, (1502880723).to_bytes(4, "big") + bytes(4)), r
assert isinstance(r["f"], float), r
assert r["n"] == 2, r
print("ok")
' >"$T/bin.out" 2>&1
check_out "--jq: untouched bin and ext fields keep their bytes" "cat '$T/bin.out'" ok
check_out "--jq sees bin as a string (bad UTF-8 as U+FFFD), EventTime as seconds, other ext as base64" \
	"lreform -j '{b: (.b|length), e, et, f}' <'$T/bin.mp' | lout -f json" \
	'{"b":5,"e":"eHk=","et":1502880723,"f":1.5}'
check_out "--jq: debug writes to stderr" \
	"echo '{\"a\":1}' | lcat t | lreform -j 'debug' 2>&1 >/dev/null" \
	'lreform: ["DEBUG:",{"a":1}]'

# counters
printf '%s\n' '{"n":1}' '{"n":"x"}' '{"n":2}' | lcat t >"$T/n.bin"
lreform --stats -j 'select(.n != 2) | .n + 1 | {n: .}' <"$T/n.bin" >/dev/null 2>"$T/stats.err"
check "--stats counts events in, out, dropped and jq errors" \
	"grep -q 'events in 3, out 1, dropped 2, bytes in' '$T/stats.err' &&
	 grep -q 'jq errors 1, jq non-object outputs 0' '$T/stats.err'"
check "jq errors are summed up at exit" \
	"grep -q 'dropped: 1 jq errors, 0 outputs that were not objects' '$T/stats.err'"
yes '{"n":"x"}' | head -n 15 | lcat t | lreform -j '.n + 1' >/dev/null 2>"$T/many.err"
check "only the first ten jq errors are shown" \
	"test \$(grep -c 'jq error:' '$T/many.err') = 10 &&
	 grep -q 'further jq errors are counted, not shown' '$T/many.err' &&
	 grep -q 'dropped: 15 jq errors' '$T/many.err'"

# bad input
{ echo '{"a":1}' | lcat t; printf '\301\301'; echo '{"a":2}' | lcat t; } >"$T/bad.bin"
check_err "bad input: exit 3 with the offset" 3 \
	"lreform x=1 <'$T/bad.bin'" "lreform: stdin: byte"
check_out "bad input: the events before it are written" \
	"lreform x=1 <'$T/bad.bin' 2>/dev/null | lout -f json" '{"a":1,"x":"1"}'
check_out "--skip-invalid skips it and goes on" \
	"lreform --skip-invalid x=1 <'$T/bad.bin' 2>/dev/null | lout -f json | tr -d '\n'; echo" \
	'{"a":1,"x":"1"}{"a":2,"x":"1"}'
check_err "--skip-invalid says so at exit" 0 \
	"lreform --skip-invalid <'$T/bad.bin' >/dev/null" "skipped 2 bytes of invalid input in 1 places"
check_err "--max-event-size: a larger event is bad input" 3 \
	"echo '{\"k\":\"0123456789012345678901234567890123456789\"}' | lcat t | lreform --max-event-size 32 x=1" \
	"lreform: stdin"

# live pipes and signals
mkfifo "$T/in"
( lreform x=1 <"$T/in" | lout -f json >"$T/live.out" ) &
exec 3>"$T/in"
echo '{"n":1}' | lcat t >&3
check "idle flush: an event passes while the input stays open" \
	"wait_for 'grep -q \"{\\\"n\\\":1,\\\"x\\\":\\\"1\\\"}\" \"$T/live.out\"' 50"
exec 3>&-
wait
printf '{"a":1}\n{"a":2}\n' | lcat t >"$T/two.bin"
sigterm_run 'cat "$T/two.bin"' lreform -j '.'
check "SIGTERM: exit status 0" "test $rc = 0"
check_out "SIGTERM: everything read was written" "lout -f json <'$T/term.out' | wc -l" 2

check "--help lists the options" \
	"lreform --help | grep -q -- '--renew-time-key KEY'"
check_out "--version" "lreform --version" "lreform (lkit) $(sed -n 's/^VERSION = //p' "$TESTS_DIR/../Makefile")"
