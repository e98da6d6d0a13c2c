#!/bin/sh
# lparse --format multi, --time-format-fallback and --format msgpack: the
# cases of tests/data/lpfmt-multi.cases, the multi example of the man page,
# msgpack fields made with python3-msgpack, and hostile bytes in every new
# format (no crash, every event passed on or counted).
. "${0%/*}/lib.sh"
. "$TESTS_DIR/cases.sh"
PY=/usr/bin/python3
CASES=$DATA/lpfmt-multi.cases
[ -r "$CASES" ] || { echo "Bail out! missing $CASES"; exit 1; }
$PY -c 'import msgpack' || { echo "Bail out! python3-msgpack is missing"; exit 1; }

CASE_TIMES=1
run_cases lparse "$CASES" 20

# the multi example of man/lparse.1
cat >"$T/mixed.json" <<'EOF'
{"message":"{\"time\":\"2024-01-02T03:04:05Z\",\"user\":\"bob\"}"}
{"message":"1704164646 disk full"}
{"message":"just text"}
EOF
lcat app <"$T/mixed.json" | lparse -f multi --try json \
	--try 'regexp:^(?<time>\S+) (?<msg>.*)$' --try none \
	--time-format iso8601 --time-format-fallback unixtime |
	lout -f out_file --utc --time-format %H:%M:%S >"$T/mixed.out"
check_out "man page: the multi example" "head -n 2 '$T/mixed.out'" \
	"$(printf '03:04:05\tapp\t{"user":"bob"}\n03:04:06\tapp\t{"msg":"disk full"}')"
check_out "man page: the multi example, its last line" \
	"tail -n 1 '$T/mixed.out' | cut -f 2-" \
	"$(printf 'app\t{"message":"just text"}')"
check "man page: the example is in the man page" \
	"grep -qF -- \"--try 'regexp:^(?<time>\\\\eS+) (?<msg>.*)\$' --try none\" '$TESTS_DIR/../man/lparse.1'"

# a line no alternative parses: the reason of each, in order
check_out "multi: the failure names every alternative's reason" \
	"echo '{\"message\":\"neither\"}' | lcat m | lparse --try json --try 'regexp:^ok (?<n>.*)$' --try 'regexp:^(?<a>x)' --try syslog 2>&1 >/dev/null | head -n 1" \
	"lparse: event 1, tag m: no --try alternative parsed: json: unexpected character 'e'; regexp #2: pattern not matched; regexp #3: pattern not matched; syslog: pattern not matched: \"neither\""
check_out "multi: --stats counts one failure for the event" \
	"printf '%s\n' '{\"message\":\"x\"}' '{\"message\":\"{}\"}' | lcat m | lparse --stats --try json --try 'regexp:^(?<a>y)$' 2>&1 >/dev/null | tail -n 1 | sed 's/, bytes[^,]*, out [0-9]*//'" \
	"lparse: events in 2, out 2, dropped 0, parse failures 1"

# msgpack fields: mk NAME PYTHON-EXPRESSION writes the events of a list of
# records to $T/NAME.bin (tag t, time 1700000000)
mk() {
	$PY -c "
import msgpack, sys
p = lambda v: msgpack.packb(v, use_bin_type=True)
for r in $2:
    sys.stdout.buffer.write(p(['t', 1700000000, r]))" >"$T/$1.bin"
}
mp() { lparse -f msgpack "$@" | lout -f out_file --utc --time-format '%H:%M:%S.%N'; }

mk map "[{'message': p({'a': 1, 'b': 'x', 'c': [1, {'d': None}]})}]"
check_out "msgpack: a bin field holding a map is the record, types kept" \
	"mp <'$T/map.bin'" \
	"$(printf '22:13:20.000000000\tt\t{"a":1,"b":"x","c":[1,{"d":null}]}')"
# a str value holding msgpack is not UTF-8: written by hand
$PY -c "
import msgpack, sys
e = msgpack.packb(['t', 1700000000, {'m': b'\x81\xa1a\x02'}], use_bin_type=True)
sys.stdout.buffer.write(e.replace(b'\xc4\x04', b'\xa4'))" >"$T/str.bin"
check_out "msgpack: a str field too, with --key" \
	"mp --key m <'$T/str.bin' | cut -f 3" '{"a":2}'
mk arr "[{'message': p([{'a': 1}, {'a': 2}])}]"
check_out "msgpack: an array of maps gives an event each" \
	"mp <'$T/arr.bin' | cut -f 3" '{"a":1}
{"a":2}'
mk tm "[{'message': p({'time': 1700000001.25, 'a': 1})}, {'message': p({'time': msgpack.ExtType(0, bytes.fromhex('6553f10200000007')), 'a': 2})}]"
check_out "msgpack: time as a float, or an EventTime, is the event time" \
	"mp <'$T/tm.bin'" \
	"$(printf '22:13:21.250000000\tt\t{"a":1}\n22:13:22.000000007\tt\t{"a":2}')"
mk raw "[{'message': {'a': 1, 'time': 1700000003}, 'host': 'h'}]"
check_out "msgpack: a field that is a map is taken as it is" \
	"mp <'$T/raw.bin'" "$(printf '22:13:23.000000000\tt\t{"a":1}')"
mk path "[{'k': {'inner': p({'a': 3})}}]"
check_out "msgpack: --key \$.k.inner" \
	"mp --key '\$.k.inner' <'$T/path.bin' | cut -f 3" '{"a":3}'
mk rsv "[{'message': p({'a': 1}), 'host': 'h'}]"
check_out "msgpack: --reserve-data --remove-key-name-field" \
	"mp --reserve-data --remove-key-name-field <'$T/rsv.bin' | cut -f 3" \
	'{"host":"h","a":1}'

# msgpack that does not parse: said, passed on, counted
mk bad "[{'message': p({'a': 1}) + b'\\x01'}, {'message': b'\\x82\\xa1a'}, {'message': p({1: 2})}, {'message': p(5)}, {'message': b''}, {'message': b'\\xc1'}, {'message': p([{'a': 1}, 3])}, {'message': 7}]"
lparse -f msgpack --on-error drop <"$T/bad.bin" >"$T/bad.out" 2>"$T/bad.err"
check_out "msgpack: every bad field is a failure, exit 0" \
	"echo \$?; tail -n 1 '$T/bad.err'" \
	"0
lparse: 8 of 8 events did not parse (dropped)"
# why N: the reason lparse gives for bad event N alone
why() {
	$PY -c "import sys; d = open('$T/bad.bin', 'rb').read()
import msgpack
u = msgpack.Unpacker(raw=False)
u.feed(d)
e = list(u)[$1 - 1]
sys.stdout.buffer.write(msgpack.packb(e, use_bin_type=True))" |
		lparse -f msgpack 2>&1 >/dev/null | head -n 1 |
		sed 's/^lparse: event 1, tag t: //; s/: "[^"]*"$//'
}
check_out "msgpack: the reasons" \
	"for n in 1 2 3 4 5 6 7 8; do why \$n; done" \
	"1 byte after the msgpack value
msgpack data that ends inside a value (3 bytes)
a key of the msgpack map is not a string
msgpack is not a map with string keys or an array
no msgpack value
not msgpack: a bad byte or too deep nesting at byte 0
element 2 of the msgpack array is not a map with string keys
field 'message' is not text, a map or an array"

# multi with msgpack: JSON or msgpack in the same field
mk both "[{'message': b'{\"a\":1}'}, {'message': p({'b': 2})}]"
check_out "multi: json or msgpack" \
	"lparse --try json --try msgpack <'$T/both.bin' | lout -f json" \
	'{"a":1}
{"b":2}'
check_out "msgpack: --replace-invalid-sequence leaves its bytes alone" \
	"mp --replace-invalid-sequence <'$T/map.bin' | cut -f 3" \
	'{"a":1,"b":"x","c":[1,{"d":null}]}'

# hostile bytes: random and mutated fields in every new format; every
# event is passed on (keep), none crashes lparse
$PY - "$T/fuzz.bin" <<'EOF'
import msgpack, random, sys
r = random.Random(12)
seeds = [
    msgpack.packb({'a': 1, 'b': [1, 2, {'c': 'x'}], 'time': 1.5}),
    msgpack.packb([{'a': 1}, {'b': 2}]),
    b'2024-01-02T03:04:05.123456789Z stdout F hello',
    b'{"log":"x\\n","stream":"stdout","time":"2024-01-02T03:04:05Z"}',
    b'[{"a":1},{"time":"2024-01-02T03:04:05Z"}]',
]
out = open(sys.argv[1], 'wb')
for i in range(3000):
    s = bytearray(r.choice(seeds))
    for _ in range(r.randrange(1, 6)):
        k = r.randrange(4)
        if k == 0 and s:
            s[r.randrange(len(s))] = r.randrange(256)
        elif k == 1 and s:
            del s[r.randrange(len(s)):]
        elif k == 2:
            s[r.randrange(len(s) + 1):0] = bytes(r.randrange(256) for _ in range(r.randrange(1, 8)))
        else:
            s = bytearray(bytes(r.randrange(256) for _ in range(r.randrange(0, 40))))
    v = bytes(s) if i % 2 else bytes(s).decode('latin-1')
    out.write(msgpack.packb(['t', 1700000000, {'message': v}], use_bin_type=True))
EOF
# fuzz ARGS: lparse ARGS on the fuzz events exits 0 and writes 3000 or
# more events (an array gives several), each a valid event
fuzz() {
	lparse "$@" <"$T/fuzz.bin" >"$T/fuzz.out" 2>"$T/fuzz.err" &&
		n=$(lout -f json <"$T/fuzz.out" | wc -l) &&
		[ "$n" -ge 3000 ] || { echo "exit or count: ${n:-?}"; tail -n 3 "$T/fuzz.err"; false; }
}
check "hostile bytes: --format msgpack" "fuzz -f msgpack"
check "hostile bytes: --format cri" "fuzz -f cri --keep-time-key"
check "hostile bytes: --format docker" "fuzz -f docker"
check "hostile bytes: --format multi of them all" \
	"fuzz --try msgpack --try docker --try json --try cri --try 'regexp:^(?<time>\S+)' --time-format-fallback unixtime --time-format-fallback float --replace-invalid-sequence"
