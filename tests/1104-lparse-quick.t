#!/bin/sh
# lparse's quick --regex path (the event written straight from the match)
# gives the bytes of the long one, which a --types entry for a field no
# line has forces: groups that took part or not, long values and tags,
# times outside 32 bits, more than 15 groups, errors, the built-in formats.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 10

RX='^(?<time>\S+ \S+) - \[(?<level>\S+)\](?: (?<msg>.+))?$'
TF='%Y-%m-%d %H:%M:%S,%L'
SLOW='--types zz_none:string'

$PY - "$T/in.jsonl" <<'EOF'
import json, sys
lines = [
    "2017-08-31 03:10:17,123 - [INFO] hello world",
    "2017-08-31 03:10:17,456 - [WARN] the same second",
    "2017-08-31 03:10:18,001 - [ERROR] " + "x" * 40,
    "2017-08-31 03:10:18,002 - [ERROR] " + "y" * 300,
    "2017-08-31 03:10:18,003 - [ERROR] " + "z" * 70000,
    "2017-08-31 03:10:19,999 - [INFO]",
    "not matching at all",
    "2017-08-3x 03:10:19,999 - [INFO] a date that is none",
    "1969-12-31 23:59:59,500 - [INFO] before 1970",
    "2200-01-01 00:00:00,000 - [INFO] after 2106",
    "2017-08-31 03:10:19,999 - [INFO] two\nlines",
    "2017-08-31 03:10:59,999 - [DEBUG] a minute ends",
    "2017-08-31 03:11:00,000 - [DEBUG] the next",
    "",
]
with open(sys.argv[1], "w") as f:
    for l in lines:
        f.write(json.dumps({"message": l}) + "\n")
    f.write(json.dumps({"message": 5}) + "\n")
    f.write(json.dumps({"other": "no message"}) + "\n")
EOF
lcat t <"$T/in.jsonl" >"$T/short.bin"
lcat "a.tag.that.is.longer.than.thirty.one.bytes" <"$T/in.jsonl" \
	>"$T/long.bin"

# same NAME ARGS...: quick and long paths give the same bytes and messages
same() {
	_name=$1
	shift
	check "$_name" "
	for in in '$T/short.bin' '$T/long.bin'; do
		lparse $* <\"\$in\" >'$T/q.bin' 2>'$T/q.err'; q=\$?
		lparse $* $SLOW <\"\$in\" >'$T/s.bin' 2>'$T/s.err'; s=\$?
		[ \$q = \$s ] && cmp '$T/q.bin' '$T/s.bin' &&
		    cmp '$T/q.err' '$T/s.err' && [ -s '$T/q.bin' ] || exit 1
	done"
}

same "groups set or not, str8/16/32 values, times beyond 32 bits, errors" \
	"--regex '$RX' --time-format '$TF'"
same "--keep-time-key" "--regex '$RX' --time-format '$TF' --keep-time-key"
same "--time-key ''" "--regex '$RX' --time-key ''"
same "a time key no group has" "--regex '$RX' --time-key nothere"
same "--time-type unixtime" \
	"--regex '$RX' --time-format '$TF' --time-type unixtime"
same "a fallback format" "--regex '$RX' --time-format '%Y-%m-%d %H:%M:%S' \
	--time-format-fallback '$TF'"
G16='^(?<a1>.)(?<a2>.)(?<a3>.)(?<a4>.)(?<a5>.)(?<a6>.)(?<a7>.)(?<a8>.)'
G16=$G16'(?<b1>.)(?<b2>.)(?<b3>.)(?<b4>.)(?<b5>.)(?<b6>.)(?<b7>.)(?<rest>.*)$'
same "sixteen groups: a map16 header" "--regex '$G16' --time-key ''"
same "--format nginx" "--format nginx"

printf '%s\n' '{"message":"2017-08-31 03:10:17,123 - [INFO] hello"}' \
	'{"message":"2017-08-31 03:10:17,123 - [INFO]"}' |
	lcat t | lparse --regex "$RX" --time-format "$TF" --utc |
	lout -f out_file --time-format '%s.%L' >"$T/out.txt"
check_out "the records and times written" "cat '$T/out.txt'" \
	"1504149017.123	t	{\"level\":\"INFO\",\"msg\":\"hello\"}
1504149017.123	t	{\"level\":\"INFO\"}"
printf '%s\n' '{"message":"1969-12-31 23:59:59,500 - [INFO] a"}' \
	'{"message":"2200-01-01 00:00:00,000 - [INFO] b"}' |
	lcat t | lparse --regex "$RX" --time-format "$TF" --utc |
	lout -f out_file --time-format '%s' | cut -f1 >"$T/far.txt"
check_out "times before 1970 and after 2106" "cat '$T/far.txt'" \
	"-1
7258118400"
