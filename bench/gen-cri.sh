#!/bin/sh
# gen-cri.sh - the td-agent log of gen-log.sh as a CRI container log
# (containerd, CRI-O): "TIME STREAM TAG MESSAGE", warnings and errors on
# stderr, every tenth line cut into a P part and its F end, as the runtime
# cuts long lines.
# usage: gen-cri.sh IN [OUT]   (default stdout)
set -eu
in=$1
out=${2:--}
[ "$out" = - ] || exec >"$out"
LC_ALL=C exec awk '
{
	# "2017-08-18 19:39:40,123 - [INFO] ..." -> RFC 3339 with nanoseconds
	t = substr($0, 1, 10) "T" substr($0, 12, 8) "." substr($0, 21, 3) \
	    "456789Z"
	s = ($0 ~ / - \[(WARN|ERROR)\] /) ? "stderr" : "stdout"
	if (NR % 10 == 0) {
		h = int(length($0) / 2)
		print t, s, "P", substr($0, 1, h)
		print t, s, "F", substr($0, h + 1)
	} else {
		print t, s, "F", $0
	}
}' "$in"
