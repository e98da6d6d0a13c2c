#!/bin/sh
# lout on a full disk: a failed write is cut back to the last whole event,
# the events not written are counted, --stats printed, exit 4; what it
# reports written is exactly what can be read, and a later append is not
# glued to a torn record.  A file size limit (ulimit -f: EFBIG, SIGXFSZ
# ignored) stands in for a full disk; /dev/full gives ENOSPC.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 16

$PY "$FWD" events 2000 full.t >"$T/ev.bin"     # about 130 KB of JSON
$PY "$FWD" events 3 full.t >"$T/three.bin"
# limited BLOCKS CMD: CMD under a file size limit (512-byte blocks in sh)
limited() { (ulimit -f "$1" && eval "$2"); }
# jsonl FILE: the number of lines if every line is a whole JSON object
# and the file ends with a newline, else an error
jsonl() {
	$PY -c '
import json, sys
d = open(sys.argv[1], "rb").read()
assert d == b"" or d.endswith(b"\n"), "torn last line"
n = 0
for l in d.split(b"\n")[:-1]:
    assert isinstance(json.loads(l), dict), l
    n += 1
print(n)
' "$1"
}
# written / unwritten: the counts from the last run's stderr in $T/err
written() { sed -n 's/.*events in [0-9]*, out \([0-9]*\),.*/\1/p' "$T/err"; }
unwritten() { sed -n 's/^lout: \([0-9]*\) events not written, .*/\1/p' "$T/err"; }

# --path, plain text
lout -f json -p "$T/p/a.log" <"$T/three.bin"
check_err '--path over the limit: exit 4, the cause said' 4 \
	'limited 20 "lout -f json --stats -p \"$T/p/a.log\" <\"$T/ev.bin\"" 2>"$T/err";
	rc=$?; cat "$T/err" >&2; exit $rc' 'lout: unable to write '
check 'the events not written are counted, --stats printed, adding up' \
	'cp "$T/.err" "$T/err"; n=$(written); u=$(unwritten);
	test -n "$n" && test -n "$u" && test $((n + u)) = 2000 && test "$n" -gt 0 &&
	grep -q "^lout: $u events not written, $n written\$" "$T/err"'
n=$(written)
check_out 'the file holds whole lines: the 3 before and the reported ones' \
	'jsonl "$T/p/a.log"' $((3 + n))
lout -f json -p "$T/p/a.log" <"$T/three.bin"
check_out 'an append after space frees starts on its own line' \
	'jsonl "$T/p/a.log"' $((3 + n + 3))

# --path --compress gzip: a member that did not fit is cut off whole
lout -f json -p "$T/g/a.log" --compress gzip <"$T/three.bin"
limited 1 'lout -f json --stats -p "$T/g/a.log" --compress gzip <"$T/ev.bin"' \
	2>"$T/err"
rc=$?
check 'gzip over the limit: exit 4, all 2000 not written, out 0' \
	'test $rc = 4 && grep -q "^lout: 2000 events not written, 0 written" "$T/err" &&
	grep -q "events in 2000, out 0," "$T/err"'
check_out 'the file is still valid gzip with the earlier member' \
	'gzip -t "$T/g/a.log.gz" && zcat "$T/g/a.log.gz" >"$T/g.txt" && jsonl "$T/g.txt"' 3
lout -f json -p "$T/g/a.log" --compress gzip <"$T/three.bin"
check_out 'and a later member appended is readable' \
	'gzip -t "$T/g/a.log.gz" && zcat "$T/g/a.log.gz" >"$T/g.txt" && jsonl "$T/g.txt"' 6

# stdout
check_err 'stdout on /dev/full: exit 4, ENOSPC said' 4 \
	'lout -f json --stats <"$T/ev.bin" >/dev/full' \
	'lout: unable to write stdout: No space left on device'
check 'stdout on /dev/full: 2000 not written, --stats says out 0' \
	'grep -q "^lout: 2000 events not written, 0 written" "$T/.err" &&
	grep -q "events in 2000, out 0," "$T/.err"'
limited 20 'lout -f json --stats <"$T/ev.bin" >"$T/s.out"' 2>"$T/err"
rc=$?
n=$(written)
check 'stdout to a file over the limit: exit 4, counts adding up' \
	'test $rc = 4 && test -n "$n" && test $((n + $(unwritten))) = 2000'
check_out 'the file holds exactly the reported events, whole' \
	'jsonl "$T/s.out"' "$n"
limited 20 'lout -f json <"$T/three.bin" >>"$T/s.out"' 2>/dev/null
check 'appending to it (>>) when at the limit: cut back to whole lines again' \
	'test $(jsonl "$T/s.out") -le $((n + 3))'

# two files: the one over the limit fails mid-stream; the other is still
# written out in full before the exit
{
	for h in 0 1 2; do echo "{\"t\":1502884323,\"b\":$h}"; done
	awk 'BEGIN { for (i = 0; i < 5000; i++)
		printf "{\"t\":1502880723,\"a\":%d,\"pad\":\"%s\"}\n", i,
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }'
} | lcat --time-key t two.t >"$T/two.bin"
limited 20 'lout -f json --utc --stats -p "$T/two/%H.log" <"$T/two.bin"' \
	2>"$T/err"
rc=$?
n=$(written)
in=$(sed -n 's/.*events in \([0-9]*\),.*/\1/p' "$T/err")
check 'two files, one over the limit: exit 4 mid-stream, counts adding up' \
	'test $rc = 4 && test -n "$n" && test "$in" -lt 5003 &&
	test $((n + $(unwritten))) = "$in"'
check_out 'the other file got all its events' 'jsonl "$T/two/11.log"' 3
check_out 'the full one holds whole lines: the rest of the reported ones' \
	'jsonl "$T/two/10.log"' $((n - 3))
check 'SIGXFSZ is ignored: exit 4, not death by the signal (153)' \
	'test $rc = 4'
