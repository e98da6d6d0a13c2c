#!/bin/sh
# lcat: JSON in, events out (fluent-cat); -m merges event streams.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 35

# JSON values survive lcat | lout exactly (compared as values by python)
lcat t <"$DATA/hard.jsonl" | lout -f json >"$T/hard.out"
check "hard values round-trip (unicode, surrogates, ints, floats, nesting)" \
	"$PY -c '
import json, sys
def fit(v):
    if isinstance(v, int) and not -2**63 <= v < 2**64:
        return float(v)
    if isinstance(v, list):
        return [fit(x) for x in v]
    if isinstance(v, dict):
        return {k: fit(x) for k, x in v.items()}
    return v
a = [fit(json.loads(l)) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b), (len(a), len(b))
for x, y in zip(a, b):
    assert json.dumps(x, sort_keys=True) == json.dumps(y, sort_keys=True), (x, y)
' '$DATA/hard.jsonl' '$T/hard.out'"
check_same "lout's JSON reads back to the same bytes" \
	"lcat t <'$T/hard.out' | lout -f json" "cat '$T/hard.out'"
check_out "a surrogate pair becomes UTF-8" \
	"echo '{\"s\":\"\\ud83d\\ude00\"}' | lcat t | lout -f json" '{"s":"😀"}'
check_out "int64 and uint64 limits are exact" \
	"sed -n 4p '$DATA/hard.jsonl' | lcat t | lout -f json" \
	'{"big":[9223372036854775807,-9223372036854775808,18446744073709551615]}'
check_out "floats in the shortest form that reads back" \
	"sed -n 6p '$DATA/hard.jsonl' | lcat t | lout -f json" \
	'{"floats":[0.1,1.5,-2.25,1e-300,5e-324,1.7976931348623157e+308,1.0,-0.0,3.14159]}'
printf '{"b":"\377x\300"}\n' >"$T/bad8.json"
check_out "invalid UTF-8 is escaped, not dropped" \
	"lcat t <'$T/bad8.json' | lout -f json" '{"b":"\udcffx\udcc0"}'
check_same "and the escape reads back to the same bytes" \
	"lcat t <'$T/bad8.json' | lout -f json | lcat t | lout -f msgpack" \
	"lcat t <'$T/bad8.json' | lout -f msgpack"
check_out "values back to back, and arrays of objects" \
	"printf '{\"a\":1}{\"b\":2} [{\"c\":3},{\"d\":4}]\n' | lcat t | lout -f json | tr -d '\n'; echo" \
	'{"a":1}{"b":2}{"c":3}{"d":4}'

# the event itself: tag, current time with nanoseconds, Message mode
check "one event: [tag, EventTime now, record]" \
	"echo '{\"json\":\"message\"}' | lcat debug.test | $PY -c '
import msgpack, sys, struct, time
o = list(msgpack.Unpacker(sys.stdin.buffer))
assert len(o) == 1 and o[0][0] == \"debug.test\" and o[0][2] == {\"json\": \"message\"}
s, ns = struct.unpack(\">II\", o[0][1].data)
assert abs(s - time.time()) < 60 and 0 <= ns < 10**9
'"
check_out "the issue's example line" \
	"echo '{\"json\":\"message\"}' | lcat debug.test | lout | sed 's/^[0-9-]* [0-9:.]* +0000 //'" \
	'debug.test: {"json":"message"}'

# --time-key
check_out "--time-key with --time-format sets the time, removes the key" \
	"echo '{\"t\":\"2017-08-18 19:39:39,123\",\"m\":1}' | lcat --time-key t --time-format '%Y-%m-%d %H:%M:%S,%L' x | lout" \
	'2017-08-18 19:39:39.123000000 +0000 x: {"m":1}'
check_out "--keep-time-key keeps it" \
	"echo '{\"t\":1503085179.5,\"m\":1}' | lcat --time-key t --keep-time-key x | lout" \
	'2017-08-18 19:39:39.500000000 +0000 x: {"t":1503085179.5,"m":1}'
check_out "iso8601 strings by default, with --timezone for zoneless text" \
	"echo '{\"t\":\"2017-08-18T19:39:39\"}' | lcat --time-key t --timezone +09:00 x | lout -f out_file --utc" \
	'2017-08-18T10:39:39+0000	x	{}'
check_err "a time that does not match is a data error" 3 \
	"echo '{\"t\":\"yesterday\"}' | lcat --time-key t x" \
	"lcat: stdin: line 1, column 1: time does not match the time format"
check_err "a bad time format is a usage error" 2 \
	"echo '{}' | lcat --time-key t --time-format '%Q' x" "bad time format '%Q'"

# --msgpack
check_out "--msgpack reads msgpack maps" \
	"$PY -c 'import msgpack,sys; sys.stdout.buffer.write(msgpack.packb({\"a\":1})+msgpack.packb({\"b\":[1,2]}))' | lcat --msgpack m | lout -f json | tr -d '\n'; echo" \
	'{"a":1}{"b":[1,2]}'
check_err "--msgpack: a value that is not a map" 3 \
	"printf '\\001' | lcat --msgpack m" "lcat: stdin: byte 0: expected an object, found number"

# bad JSON: good lines first, then line and column
printf '{"a":1}\n{"b":2}\n{"c" 3}\n{"d":4}\n' >"$T/bad.json"
check_err "malformed JSON: line and column, exit 3" 3 \
	"lcat t <'$T/bad.json'" "lcat: stdin: line 3, column 6: expected ':' after key"
check_out "malformed JSON: the lines before it are written" \
	"lcat t <'$T/bad.json' 2>/dev/null | lout -f json | tr -d '\n'; echo" '{"a":1}{"b":2}'
check_out "--skip-invalid: skips the line, keeps the rest" \
	"lcat --skip-invalid t <'$T/bad.json' 2>/dev/null | lout -f json | tr -d '\n'; echo" \
	'{"a":1}{"b":2}{"d":4}'
check_err "--skip-invalid: says what it skipped" 0 \
	"lcat --skip-invalid t <'$T/bad.json' >/dev/null" \
	"lcat: skipped 1 invalid values (first: stdin: line 3, column 6"
check_err "a scalar is not a record" 3 "echo '42' | lcat t" \
	"line 1, column 1: expected an object, found number"
check_out "--stats counts" \
	"lcat --stats t <'$DATA/hard.jsonl' 2>&1 >/dev/null | sed 's/, bytes.*//'" \
	"lcat: events in 9, out 9, dropped 0"

# size limit and skipping
(echo '{"a":1}'; printf '{"big":"%04000d"}\n' 0; echo '{"b":2}') >"$T/big.json"
check_err "a value over --max-event-size is a data error" 3 \
	"lcat --max-event-size 1k t <'$T/big.json'" \
	"lcat: stdin: line 2, column 1: JSON value larger than --max-event-size"
check_out "--skip-invalid skips an oversized value and goes on" \
	"lcat --max-event-size 1k --skip-invalid t <'$T/big.json' 2>/dev/null | lout -f json | tr -d '\n'; echo" \
	'{"a":1}{"b":2}'
check_out "--msgpack --skip-invalid resynchronises after bad bytes" \
	"printf '\201\241a\001\301\301\201\241b\002' | lcat --msgpack --skip-invalid t 2>&1 >'$T/m.bin'; lout -f json <'$T/m.bin' | tr -d '\n'; echo" \
	'lcat: stdin: skipped 2 bytes of invalid input in 1 places
{"a":1}{"b":2}'
check_out "--time-format unixtime takes numbers" \
	"echo '{\"t\":1503085179}' | lcat --time-key t --time-format unixtime x | lout -f out_file" \
	'2017-08-18T19:39:39+0000	x	{}'
check_out "lcat -m: nil records are counted and said" \
	"$PY -c 'import msgpack,sys; sys.stdout.buffer.write(msgpack.packb([\"t\",[[1,None],[2,{\"a\":1}]]]))' | lcat -m - 2>&1 >/dev/null" \
	"lcat: stdin: skipped 1 events whose record is nil"

# usage
check_exit "no tag is a usage error" 2 "echo '{}' | lcat"
check_exit "an unknown option is a usage error" 2 "lcat --nope t"
check_out "--version" "lcat --version | cut -d' ' -f1,2" "lcat (lkit)"

# -m: two FIFOs fed by concurrent writers; every event once, none torn
mkfifo "$T/f1" "$T/f2"
$PY "$DATA/fwd.py" events 20000 one >"$T/one.bin"
$PY "$DATA/fwd.py" events 20000 two >"$T/two.bin"
( for i in 1 2 3 4; do cat "$T/one.bin"; done >"$T/f1" ) &
( for i in 1 2 3 4; do cat "$T/two.bin"; done >"$T/f2" ) &
timeout 60 lcat -m "$T/f1" "$T/f2" >"$T/merged.bin"
check "lcat -m: ends when both inputs end, with status 0" "test $? = 0"
check_out "lcat -m: every event exactly once" \
	"lout -f out_file <'$T/merged.bin' | cut -f2,3 | sort | uniq -c | awk '{print \$1}' | sort -u" 4
check_out "lcat -m: 160000 whole events" \
	"lout -f json <'$T/merged.bin' | wc -l" 160000
check "lcat -m: a missing file is a system error" \
	"lcat -m '$T/nope' 2>&1; test \$? = 4"
