#!/bin/sh
# lout --path with placeholders, as Fluentd's out_file path: ${tag},
# ${tag_parts[N]}, ${record["k"]} with strftime; unsafe values kept inside
# the tree; more files than --max-open-files; marks only after writing.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
M="$PY $DATA/marks.py"
TIMES="$PY $DATA/loutpath-times.py"
plan 34

# ev TAG JSON...: one event per JSON line, at its "t" (default 2017-08-16
# 10:52:03 UTC)
ev() {
	_tag=$1
	shift
	printf '%s\n' "$@" | sed '/"t":/!s/^{/{"t":1502880723,/' |
		lcat --time-key t "$_tag"
}
# tree DIR: the files under DIR, relative, sorted
tree() { (cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); }

# --- tags -----------------------------------------------------------------
{ ev app.web '{"a":1}' '{"a":2}'; ev app.api '{"a":3}'; } >"$T/tags.bin"
lout -f json --utc -p "$T/a/\${tag}/%Y%m%d.log" <"$T/tags.bin"
check_out '${tag}: a directory per tag, as Fluentd'"'"'s /var/log/fluent/${tag}/%Y%m%d' \
	"tree '$T/a'" "app.api/20170816.log
app.web/20170816.log"
check_out '${tag}: each event in its tag'"'"'s file' \
	"cat '$T/a/app.web/20170816.log'" '{"a":1}
{"a":2}'

ev a.b.c '{"x":1}' >"$T/abc.bin"
lout -f json -p "$T/b/\${tag_parts[-1]}.\${tag_parts[-3]}.\${tag[1]}.\${tag_parts[0]}.\${tag_parts[2]}" \
	<"$T/abc.bin"
check_out '${tag_parts[N]}: negative from the end; ${tag[N]} as in Fluentd' \
	"tree '$T/b'" "c.a.b.a.c"
lout -f json -p "$T/b2/\${tag_prefix[1]}/\${tag_suffix[-2]}" <"$T/abc.bin"
check_out '${tag_prefix[N]} and ${tag_suffix[N]} keep their dots' \
	"tree '$T/b2'" "a.b/b.c"

# --- record fields --------------------------------------------------------
ev x '{"host":"web1","a":{"b":"deep"},"n":42,"l":["p","q"],"ok":true}' \
	>"$T/rec.bin"
lout -f json -p "$T/c/\${record[\"host\"]}/\${record[\"a\"][\"b\"]}.\${n}.\${record[\"l\"][-1]}.\${ok}.log" \
	<"$T/rec.bin"
check_out 'record fields: ${record["k"]}, nested, array index, bare ${k}, numbers' \
	"tree '$T/c'" "web1/deep.42.q.true.log"
check_out 'the event is written whole into it' \
	"cat '$T/c/web1/deep.42.q.true.log'" \
	'{"host":"web1","a":{"b":"deep"},"n":42,"l":["p","q"],"ok":true}'

ev one '{"k":"v"}' '{"k":"w"}' >"$T/miss.bin"
lout -f json --stats -p "$T/d/\${tag_parts[1]}/\${record[\"nope\"]}.\${k}" \
	<"$T/miss.bin" 2>"$T/miss.err"
check_out 'a missing tag part or field is "_"' "tree '$T/d'" "_/_.v
_/_.w"
check 'and counted by --stats: path values missing 2, replaced 0' \
	"grep -q 'events in 2, out 2, .*, path values missing 2, replaced 0\$' \
	 '$T/miss.err'"

# --- unsafe values ----------------------------------------------------------
mkdir -p "$T/u/tree"
{
	ev ../x '{"v":"../../etc"}'
	ev .. '{"v":"/"}'
	ev . '{"v":""}'
	ev a/b '{"v":".."}'
	ev ok '{"v":"a\u0000b"}' '{"v":"a\nb\u007f"}' '{"v":null}' \
		'{"v":"."}' '{"v":"..."}' '{"v":"x/../../y"}' '{"v":"fine"}'
	$M stream --tag '' e1
} >"$T/bad.bin"
lout -f json --stats -p "$T/u/tree/\${tag}/\${record[\"v\"]}.log" \
	<"$T/bad.bin" 2>"$T/bad.err"
check_out "'/', '..', '.', empty, NUL and control bytes are replaced" \
	"tree '$T/u/tree'" ".._x/.._.._etc.log
_/_.log
__/_.log
a_b/__.log
ok/_.log
ok/___.log
ok/a_b.log
ok/a_b_.log
ok/fine.log
ok/x_.._.._y.log"
check_out 'nothing is written outside the tree' \
	"cd '$T/u' && find . -type f | grep -v '^\./tree/' | wc -l" 0
check 'every event written; the replaced ones and the missing one counted' \
	"grep -q 'events in 12, out 12, .*, path values missing 1, replaced 11\$' \
	 '$T/bad.err'"
long=$(printf '%0300d' 0 | tr 0 x)
ev t "{\"v\":\"$long\"}" >"$T/long.bin"
lout -f json -p "$T/l/\${record[\"v\"]}.log" <"$T/long.bin"
check_out 'a value is cut to 128 bytes' "tree '$T/l' | wc -c" $((128 + 5))

# --- strftime and placeholders together ------------------------------------
{
	ev app.web '{"a":1}' '{"t":1502884323,"a":2}'
	ev db.sql '{"a":3}' '{"t":1502884323,"a":4}' '{"t":1502884324,"a":5}'
} >"$T/both.bin"
lout -f json --utc -p "$T/s/%Y/\${tag_parts[-1]}/%m%d.%H.\${tag_parts[0]}.log" \
	<"$T/both.bin"
check_out 'strftime and placeholders in one template' "tree '$T/s'" \
	"2017/sql/0816.10.db.log
2017/sql/0816.11.db.log
2017/web/0816.10.app.log
2017/web/0816.11.app.log"
check_out 'each file holds its events' \
	"cat '$T/s/2017/sql/0816.11.db.log'" '{"a":4}
{"a":5}'
lout -f json --utc --compress gzip -p "$T/g/\${tag}.log" <"$T/both.bin"
check_out '--compress gzip adds .gz to each name' \
	"tree '$T/g' && zcat '$T/g/db.sql.log.gz' | wc -l" "app.web.log.gz
db.sql.log.gz
3"
host=$(hostname | tr / _)
lout -f json -p "$T/h/\${hostname}.log" <"$T/abc.bin"
check_out '${hostname}' "tree '$T/h'" "$host.log"

# names worked out once a day, hour or minute: right across summer time
$TIMES stream >"$T/times.bin"
TZ=America/New_York lout -f json -p "$T/z1/%Y%m%d.%H" <"$T/times.bin"
check_out 'hourly names across summer time (TZ=America/New_York)' \
	"$TIMES check '$T/z1' America/New_York %Y%m%d.%H" \
	"13342 events where they belong"
lout -f json --timezone Australia/Lord_Howe -p "$T/z2/\${tag}/%H%M.%z" \
	<"$T/times.bin"
check_out 'minutes and %z across a 30-minute change (Lord_Howe)' \
	"$TIMES check '$T/z2' Australia/Lord_Howe t/%H%M.%z" \
	"13342 events where they belong"
lout -f json --timezone Asia/Kathmandu -p "$T/z3/%Y/%m/%d.%p" <"$T/times.bin"
check_out 'local days and AM/PM at +05:45 (Asia/Kathmandu)' \
	"$TIMES check '$T/z3' Asia/Kathmandu %Y/%m/%d.%p" \
	"13342 events where they belong"
lout -f json --timezone -09:30 -p "$T/z4/%Y%m%d.%I" <"$T/times.bin"
check_out 'a fixed offset: -09:30' \
	"$TIMES check '$T/z4' -09:30 %Y%m%d.%I" "13342 events where they belong"

# --- more files than --max-open-files --------------------------------------
awk 'BEGIN { for (i = 0; i < 3000; i++)
	printf "{\"i\":%d,\"f\":%d}\n", i, (i * 7) % 300 }' |
	lcat many.files >"$T/many.bin"
# all 3000 ids once, each in the file of its "f"
every() {
	$PY -c '
import json, os, sys
d, seen = sys.argv[1], []
for n in os.listdir(d):
    for l in open(os.path.join(d, n)):
        r = json.loads(l)
        assert "%d.log" % r["f"] == n, (n, r)
        seen.append(r["i"])
assert sorted(seen) == list(range(3000)), len(seen)
print(len(os.listdir(d)), len(seen))
' "$1"
}
lout -f json --stats --max-open-files 7 -p "$T/m/\${record[\"f\"]}.log" \
	<"$T/many.bin" 2>"$T/many.err"
check_out '300 files, 7 open at most: every event in its file, once' \
	"every '$T/m'" "300 3000"
check '--stats: all 3000 out' "grep -q 'events in 3000, out 3000,' '$T/many.err'"
lout -f json --max-open-files 7 -p "$T/m/\${record[\"f\"]}.log" <"$T/many.bin"
check_out 'run again: reopened files are appended to' \
	"cat '$T/m/0.log' | wc -l" 20
(ulimit -n 20 && exec lout -f json --max-open-files 5000 \
	-p "$T/fd/\${record[\"f\"]}.log" <"$T/many.bin")
echo $? >"$T/fd.rc"
check_out 'fewer descriptors than --max-open-files (ulimit -n 20): exit 0' \
	"cat '$T/fd.rc'" 0
check_out 'and every event in its file' "every '$T/fd'" "300 3000"
check_out 'with the tag in the name too (cached per tag and hour)' \
	"lout -f json --max-open-files 3 -p '$T/mt/\${tag}.\${record[\"f\"]}.log' \
	 <'$T/many.bin' && ls '$T/mt' | wc -l && cat '$T/mt/'* | wc -l" "300
3000"

# --- marks -------------------------------------------------------------------
check_out 'marks come back only when every event before them is in the files' \
	"$PY '$DATA/loutpath-marks.py' batches '$T/mk' 40 5 200 -- lout -f json \
	 --max-open-files 6 -p '$T/mk/\${record[\"f\"]}/x.log'" \
	"batch 1: 200 events
batch 2: 400 events
batch 3: 600 events
batch 4: 800 events
batch 5: 1000 events
exit 0"
check_out 'no mark back while its events wait in a file (another blocks lout)' \
	"$PY '$DATA/loutpath-marks.py' held '$T/hd1' 1 -- lout -f json \
	 -p '$T/hd1/\${record[\"f\"]}.log'" \
	"mark back after the fifo was read: 3 events in a.log
fifo: 1 events
exit 0"
check_out 'a file closed to make room is written first, and the mark goes back' \
	"$PY '$DATA/loutpath-marks.py' held '$T/hd2' 20 -- lout -f json \
	 --max-open-files 1 -p '$T/hd2/\${record[\"f\"]}.log'" \
	"mark back before the fifo was read: 3 events in a.log
fifo: 1 events
exit 0"
check_out 'and with ${tag} and strftime only (the cached names)' \
	"$PY '$DATA/loutpath-marks.py' batches '$T/mk2' 3 3 100 -- lout -f json \
	 --max-open-files 2 -p '$T/mk2/\${tag}/%Y%m%d%H%M.log'" \
	"batch 1: 100 events
batch 2: 200 events
batch 3: 300 events
exit 0"

check_out 'and with fewer descriptors than --max-open-files (ulimit -n 24)' \
	"(ulimit -n 24 && exec $PY '$DATA/loutpath-marks.py' batches '$T/mk3' 60 3 300 \
	 -- lout -f json --max-open-files 1000 -p '$T/mk3/\${record[\"f\"]}.log')" \
	"batch 1: 300 events
batch 2: 600 events
batch 3: 900 events
exit 0"

# --- usage --------------------------------------------------------------------
check_err '${time} is a usage error' 2 "lout -p '$T/x/\${time}' </dev/null" \
	'use strftime conversions'
check_err 'an unknown placeholder is a usage error' 2 \
	"lout -p '$T/x/\${tag parts}' </dev/null" \
	"unknown placeholder '\${tag parts}' in --path"
check_err '--max-open-files 0 is a usage error' 2 \
	"lout --max-open-files 0 -p '$T/x/y' </dev/null" '--max-open-files'
