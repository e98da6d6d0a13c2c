#!/bin/sh
# lout: events in, text out (out_stdout, formatters, out_file).
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 28

# events at fixed times: 2017-08-16 10:52:03.309664 UTC and an hour later
ev() { lcat --time-key t x.y "$@"; }
printf '%s\n' '{"t":1502880723.309664,"json":"message"}' >"$T/one.json"
ev <"$T/one.json" >"$T/one.bin"
printf '%s\n' \
	'{"t":1502880723,"a":"1","b":"x,\"y\"","n":2.5}' \
	'{"t":1502884323,"a":"2","b":"tab\there","n":null}' | ev >"$T/two.bin"

check_out "Fluentd's stdout line, local zone and nanoseconds" \
	"TZ=Asia/Tokyo lout <'$T/one.bin'" \
	'2017-08-16 19:52:03.309664000 +0900 x.y: {"json":"message"}'
check_out "--timezone" "lout --timezone -05:30 <'$T/one.bin'" \
	'2017-08-16 05:22:03.309664000 -0530 x.y: {"json":"message"}'
check_out "--utc overrides TZ" "TZ=Asia/Tokyo lout --utc <'$T/one.bin'" \
	'2017-08-16 10:52:03.309664000 +0000 x.y: {"json":"message"}'
check_out "--time-format with %L" \
	"lout --time-format '%H:%M:%S,%L' <'$T/one.bin'" \
	'10:52:03,309 x.y: {"json":"message"}'
check_out "json" "lout -f json <'$T/two.bin' | head -1" \
	'{"a":"1","b":"x,\"y\"","n":2.5}'
check_out "json with --time-key (float) and --tag-key" \
	"lout -f json --time-key time --tag-key tag <'$T/one.bin'" \
	'{"json":"message","time":1502880723.309664,"tag":"x.y"}'
check_out "--time-type unixtime" \
	"lout -f json --time-key time --time-type unixtime <'$T/one.bin'" \
	'{"json":"message","time":1502880723}'
check_out "--time-format makes the injected time a string" \
	"lout -f json --time-key time --time-format iso8601 <'$T/one.bin'" \
	'{"json":"message","time":"2017-08-16T10:52:03.309664000+00:00"}'
check_out "an explicit --time-type float wins over --time-format" \
	"lout -f json --time-key time --time-type float --time-format iso8601 <'$T/one.bin'" \
	'{"json":"message","time":1502880723.309664}'
check_out "an injected key replaces the record's own" \
	"echo '{\"tag\":\"old\",\"k\":1}' | lcat new | lout -f json --tag-key tag" \
	'{"k":1,"tag":"new"}'
check_out "ltsv" "lout -f ltsv <'$T/two.bin' | sed -n 2p" \
	'a:2	b:tab here	n:null'
check_out "ltsv --delimiter --label-delimiter" \
	"lout -f ltsv --delimiter '|' --label-delimiter = <'$T/two.bin' | head -1" \
	'a=1|b=x,"y"|n=2.5'
check_out "csv quotes every field" \
	"lout -f csv --fields a,b,missing,n <'$T/two.bin' | head -1" \
	'"1","x,""y""",,"2.5"'
check_out "tsv" "lout -f tsv --fields n,a <'$T/two.bin' | head -1" '2.5	1'
check_err "csv without --fields is a usage error" 2 \
	"lout -f csv <'$T/two.bin'" "--format csv needs --fields"
check_out "single_value" "echo '{\"message\":\"hello\",\"x\":1}' | lcat t | lout -f single_value" hello
check_out "single_value --key" "lout -f single_value --key json <'$T/one.bin'" message
check_out "out_file" "lout -f out_file <'$T/one.bin'" \
	'2017-08-16T10:52:03+0000	x.y	{"json":"message"}'
check "msgpack writes the records" \
	"lout -f msgpack <'$T/two.bin' | $PY -c '
import msgpack, sys
o = list(msgpack.Unpacker(sys.stdin.buffer))
assert o == [{\"a\": \"1\", \"b\": \"x,\\\"y\\\"\", \"n\": 2.5}, {\"a\": \"2\", \"b\": \"tab\\there\", \"n\": None}], o
'"
check_err "an unknown format is a usage error" 2 "lout -f yaml </dev/null" \
	"bad value 'yaml' for --format: stdout, json, "
check_out "a format's case does not matter, as in the other programs" \
	"lout -f JSON <'$T/two.bin' | head -c 8; echo" '{"a":"1"'

# --tag
check_out "--tag selects by Fluentd pattern" \
	"{ echo '{\"a\":1}' | lcat app.web; echo '{\"a\":2}' | lcat db.x; echo '{\"a\":3}' | lcat app.api.v1; } | lout -f json --tag 'app.* db.**' | tr -d '\n'; echo" \
	'{"a":1}{"a":2}'

# --path: files sliced by event time, appended, gzip, SIGHUP
lout --path "$T/out/%Y%m%d/app.%H.log" <"$T/two.bin"
check_out "--path slices by event time" \
	"cd '$T/out' && find . -type f | sort" "./20170816/app.10.log
./20170816/app.11.log"
lout --path "$T/out/%Y%m%d/app.%H.log" -f json <"$T/two.bin"
check_out "--path appends" "wc -l <'$T/out/20170816/app.10.log'" 2
lout --path "$T/gz/app.%H.log" --compress gzip -f json <"$T/two.bin"
lout --path "$T/gz/app.%H.log" --compress gzip -f json <"$T/two.bin"
check_out "--compress gzip: .gz files, one member per write, all readable" \
	"zcat '$T/gz/app.10.log.gz'" '{"a":"1","b":"x,\"y\"","n":2.5}
{"a":"1","b":"x,\"y\"","n":2.5}'

# SIGHUP: a rotated file is reopened by name
mkfifo "$T/in"
lout --path "$T/hup/app.log" -f json <"$T/in" &
pid=$!
exec 3>"$T/in"
ev <"$T/one.json" >&3
wait_for "test -s '$T/hup/app.log'"
mv "$T/hup/app.log" "$T/hup/app.log.1"
kill -HUP $pid
sleep 0.2
ev <"$T/one.json" >&3
wait_for "test -s '$T/hup/app.log'"
exec 3>&-
wait $pid
check "SIGHUP: writing goes on in a new file of the same name" \
	"test \$(wc -l <'$T/hup/app.log.1') = 1 && test \$(wc -l <'$T/hup/app.log') = 1"

# --stats and SIGUSR1
check_out "--stats" "lout --stats <'$T/two.bin' 2>&1 >/dev/null | sed 's/, bytes.*//'" \
	"lout: events in 2, out 2, dropped 0"
check_exit "an operand is a usage error" 2 "lout file </dev/null"
