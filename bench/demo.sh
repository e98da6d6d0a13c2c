#!/bin/sh
# demo.sh - the td-agent example on the bundled sample log: tail it, parse
# each line with a regex and its time, add two fields, print the events in
# Fluentd's out_stdout format.  B is the build directory (default build).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${B:-build}" && pwd)
PATH=$B:$PATH
log=$here/sample.log

echo "demo: ltail $log | lparse --regex ... | lreform hostname=\${hostname} phase=alpha | lout"
ltail --once --read-from-head --tag public.test-service1 "$log" |
	lparse --regex '^(?<time>\S+ \S+) - \[(?<level>\S+)\] (?<msg>.+)$' \
		--time-format '%Y-%m-%d %H:%M:%S,%L' |
	lreform hostname='${hostname}' phase=alpha |
	lout
