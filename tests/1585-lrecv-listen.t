#!/bin/sh
# lrecv: every address is checked before any listener opens; a port out
# of range or a host that does not resolve is a usage error
. "${0%/*}/lib.sh"
plan 11
# on a build that takes a bad address, lrecv would run: timeout bounds it

check_err '--listen 127.0.0.1:99999: exit 2, naming the address' 2 \
	'timeout 10 lrecv --listen 127.0.0.1:99999 --port-file "$T/p1"' \
	"bad address '127.0.0.1:99999' for --listen"
check 'and nothing was bound' 'test ! -e "$T/p1"'
check_err '--listen nonsense.invalid (does not resolve): exit 2' 2 \
	'timeout 10 lrecv --listen nonsense.invalid' \
	"bad address 'nonsense.invalid' for --listen"
check_err '--listen with a port that is not a number: exit 2' 2 \
	'timeout 10 lrecv --listen 127.0.0.1:http' "bad address '127.0.0.1:http'"
check_err '--listen HOST: with no port: exit 2' 2 \
	'timeout 10 lrecv --listen 127.0.0.1:' "bad address '127.0.0.1:'"
check_err '--http 127.0.0.1:65536: exit 2' 2 \
	'timeout 10 lrecv --http 127.0.0.1:65536' "bad address '127.0.0.1:65536' for --http"
check_err '--metrics -1: exit 2' 2 \
	'timeout 10 lrecv --listen 127.0.0.1:0 --metrics 127.0.0.1:-1' \
	"bad address '127.0.0.1:-1' for --metrics"
check_err 'a bad --http after good listeners: exit 2 before any is opened' 2 \
	'timeout 10 lrecv --unix "$T/sock" --listen 127.0.0.1:0 --http nonsense.invalid:9880' \
	"bad address 'nonsense.invalid:9880' for --http"
check 'so the unix socket was never made' 'test ! -e "$T/sock"'

# every listener at once: 8 --listen (TCP and UDP each), --unix, --http and
# --metrics are 19; the table had 17 slots (caught under SANITIZE=1)
l=""
i=0
while [ $i -lt 8 ]; do l="$l --listen 127.0.0.1:0"; i=$((i + 1)); done
# shellcheck disable=SC2086
lrecv $l --unix "$T/all.sock" --http 127.0.0.1:0 --metrics 127.0.0.1:0 \
	--port-file "$T/all.port" >/dev/null 2>"$T/all.err" &
apid=$!
wait_for "grep -q '^metrics ' '$T/all.port'"
mport=$(sed -n 's/^metrics //p' "$T/all.port")
check 'with all 19 listeners, metrics still answer' \
	"curl -s -m 5 http://127.0.0.1:$mport/metrics | grep -q '^lrecv_'"
kill $apid
wait $apid
check "and it stops cleanly (exit 0)" "test $? = 0"
