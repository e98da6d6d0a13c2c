#!/bin/sh
# gen-java.sh - the td-agent log of gen-log.sh with a Java stack trace
# (an exception, frames, a cause, "... N more") after every ERROR line.
# usage: gen-java.sh IN [OUT]   (default stdout)
set -eu
in=$1
out=${2:--}
[ "$out" = - ] || exec >"$out"
LC_ALL=C exec awk '
{
	print
	if ($0 !~ / - \[ERROR\] /)
		next
	n++
	print "java.lang.IllegalStateException: upstream timeout " n
	for (i = 0; i < 8; i++)
		printf "\tat com.example.app.Handler%d.call(Handler%d.java:%d)\n", i, i, 10 + i
	print "Caused by: java.net.SocketTimeoutException: Read timed out"
	for (i = 0; i < 3; i++)
		printf "\tat java.net.SocketInputStream.read%d(SocketInputStream.java:%d)\n", i, 100 + i
	print "\t... 6 more"
}' "$in"
