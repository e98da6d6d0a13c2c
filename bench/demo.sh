#!/bin/sh
# demo.sh - run the td-agent job on bench/sample.log and print the events in
# Fluentd's out_stdout format.  B is the build directory (default build).
# Until ltail, lparse and lreform are built, a stand-in turns each line into
# {"message": LINE} and feeds it to lcat.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${B:-build}" && pwd)
PATH=$B:$PATH
log=$here/sample.log

if [ -x "$B/ltail" ] && [ -x "$B/lparse" ] && [ -x "$B/lreform" ]; then
	echo "demo: ltail $log | lparse | lreform | lout"
	ltail --once --read-from-head "$log" |
		lparse --regex '^(?<time>\S+ \S+) - \[(?<level>\S+)\] (?<msg>.+)$' \
			--time-format '%Y-%m-%d %H:%M:%S,%L' |
		lreform hostname="$(uname -n)" phase=alpha |
		lout
else
	echo "demo: jsonl.sh $log | lcat demo.log | lout (stand-in: ltail, lparse, lreform not built)"
	sh "$here/jsonl.sh" "$log" | lcat demo.log | lout
fi
