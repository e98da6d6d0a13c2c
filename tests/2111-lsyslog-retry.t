#!/bin/sh
# lsyslog's connection: made again after the server drops it, retried
# with backoff, given up when the retries run out (exit 4 and the count),
# writes with a deadline, SIGTERM with nowhere to send
. "${0%/*}/lib.sh"
. "${0%/*}/lib-syslog.sh"
plan 16

# evs N FROM: N events, messages mFROM...
evs() {
	awk -v n="$1" -v f="$2" 'BEGIN { for (i = f; i < f + n; i++)
		printf "{\"message\":\"m%d\"}\n", i }' | lcat re.test
}
FREE='import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
# every run is bounded
LS="timeout -k 2 60 lsyslog --hostname h1 --shutdown-timeout 300ms"
evs 50 1 >"$T/ev.bin"

# the server closes the connection after 3 messages, while lsyslog waits
# for input: the next messages go on a new connection, none lost
srv a tcp --drop 3
mkfifo "$T/in"
$LS --stats tcp:127.0.0.1:$sport <"$T/in" 2>"$T/a.err" &
lpid=$!
exec 3>"$T/in"
evs 3 1 >&3
wait_for 'grep -q "^dropped 3" "$T/a.log"'
evs 2 4 >&3
exec 3>&-
wait $lpid
rc=$?
wait_for 'grep -q "^eof 2" "$T/a.log"'
srv_stop a
check 'dropped by the server while idle: exit 0' 'test $rc = 0'
check_out 'the messages after the drop came on a second connection' \
	'grep -v "^msg" "$T/a.log" | tr "\n" " "; echo' \
	'conn 1 dropped 3 conn 2 eof 2 '
check_out 'all five arrived, in order, once' \
	'grep "^msg" "$T/a.log" | sed "s/.* //" | tr "\n" " "; echo' \
	'm1 m2 m3 m4 m5 '
check 'a quiet close is no failure: 2 connections, 0 failures' \
	'grep -q "written 5, undelivered 0, truncated 0, invalid values 0, connections 2, failures 0" "$T/a.err"'

# nobody listens: retried, then given up; exit 4 with the count
check_err 'no server, --retry-max-times 2: exit 4, the count said' 4 \
	'$LS --stats --retry-max-times 2 --retry-wait 20ms tcp:127.0.0.1:1 <"$T/ev.bin"' \
	'50 of 50 events not delivered'
check 'three tries, then given up with the reason' \
	'test $(grep -c "tcp:127.0.0.1:1: unable to connect" "$T/.err") = 3 &&
	 grep -q "giving up 50 events: retries exhausted (--retry-max-times)" "$T/.err" &&
	 grep -q "out 0, dropped 50, .*undelivered 50, .*failures 3" "$T/.err"'
check_err '--retry-timeout 200ms ends it too: exit 4' 4 \
	'$LS --retry-timeout 200ms --retry-wait 20ms tcp:127.0.0.1:1 <"$T/ev.bin"' \
	'giving up 50 events: retries exhausted (--retry-timeout)'
check_err 'udp to a closed port: refused, retried, given up: exit 4' 4 \
	'$LS --retry-max-times 1 --retry-wait 20ms udp:127.0.0.1:1 <"$T/ev.bin"' \
	'events not delivered'

# the server comes up while lsyslog retries: everything arrives
port=$($PY -c "$FREE")
$LS --stats --retry-wait 50ms --retry-max-interval 100ms --retry-max-times 200 \
	tcp:127.0.0.1:$port <"$T/ev.bin" 2>"$T/b.err" &
lpid=$!
wait_for 'grep -q "unable to connect" "$T/b.err"'
srv b tcp --port $port
wait $lpid
rc=$?
wait_for 'grep -q "^eof 1" "$T/b.log"'
srv_stop b
check 'a server up within the retries: exit 0' 'test $rc = 0'
check_out 'a server up within the retries: all 50 arrived' \
	'grep -c "^msg" "$T/b.log"' 50
check 'the backoff: retried, then one connection' \
	'grep -q "written 50, undelivered 0, .*connections 1, failures [1-9]" "$T/b.err"'

# a server that never reads: a write stalled past --send-timeout fails
awk 'BEGIN { for (i = 0; i < 8000; i++) { printf "{\"message\":\""
	for (k = 0; k < 40; k++) printf "0123456789abcdef0123456789abcdef"
	printf "\"}\n" } }' | lcat big >"$T/big.bin"
srv s tcp --silent
check_err 'a server that never reads: exit 4 after --send-timeout' 4 \
	'$LS --send-timeout 300ms --retry-max-times 0 tcp:127.0.0.1:$sport <"$T/big.bin"' \
	'timed out sending (--send-timeout)'
check 'what was held is given up, and said' \
	'grep -q "giving up [0-9]* events: retries exhausted" "$T/.err" &&
	 grep -q "of 8000 events not delivered" "$T/.err"'
srv_stop s

# SIGTERM with nowhere to send: exits within --shutdown-timeout, exit 4
mkfifo "$T/in2"
lsyslog --shutdown-timeout 300ms --retry-forever --retry-wait 50ms \
	tcp:127.0.0.1:1 <"$T/in2" 2>"$T/term.err" &
lpid=$!
exec 3>"$T/in2"
cat "$T/ev.bin" >&3
wait_for 'grep -q "unable to connect" "$T/term.err"'
kill -TERM $lpid
wait $lpid
rc=$?
exec 3>&-
check 'SIGTERM: exit 4 after --shutdown-timeout' 'test $rc = 4'
check 'SIGTERM: says how many were not delivered' \
	'grep -q "giving up 50 events: not written before exit" "$T/term.err" &&
	 grep -q "50 of 50 events not delivered" "$T/term.err"'

# SIGTERM while the server takes everything: exit 0
srv c tcp
mkfifo "$T/in3"
lsyslog --retry-max-times 0 tcp:127.0.0.1:$sport <"$T/in3" 2>"$T/c.err" &
lpid=$!
exec 3>"$T/in3"
cat "$T/ev.bin" >&3
wait_for 'test $(grep -c "^msg" "$T/c.log") = 50'
kill -TERM $lpid
wait $lpid
rc=$?
exec 3>&-
wait_for 'grep -q "^eof 1" "$T/c.log"'
srv_stop c
check 'SIGTERM with everything written: exit 0, the connection closed' \
	'test $rc = 0 && grep -q "^eof 1" "$T/c.log"'
