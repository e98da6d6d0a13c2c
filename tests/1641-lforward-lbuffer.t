#!/bin/sh
# lforward's messages: run by lbuffer (LBUFFER_CHUNK_ID set) the events it
# could not deliver stay in lbuffer's chunk, and it says so; at the end of
# its input, or after SIGTERM, a wait for a server is said once: for what,
# and for how long at most.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
PEER="$DATA/fwdpeer.py"
plan 13

cd "$T" || exit 1
printf '{"a":1}\n{"a":2}\n{"a":3}\n' | lcat app >three.bin
LF="timeout -k 2 60 lforward --heartbeat none"

# under lbuffer: port 1 refuses, lforward gives the request up each time
check_exit "lbuffer -- lforward, the server down: lbuffer gives up, exit 4" 4 \
	"lbuffer -d d1 --retry-wait 50ms --retry-max-times 1 -- \
	 $LF --ack --retry-max-times 0 127.0.0.1:1 <three.bin 2>d1.err"
id=$(ls d1/dead | sed -n 's/^chunk-\(.*\)\.queued$/\1/p')
check_out "lforward says lbuffer keeps the chunk, at each of the 2 tries" \
	"grep -c 'lforward: 3 of 3 events not delivered: lbuffer keeps chunk \
$id and retries it$' d1.err" 2
check_out "... and leaves the request to lbuffer rather than give it up" \
	"grep -c 'lforward: leaving a request of 3 events for app to lbuffer: \
retries exhausted' d1.err; grep -c 'giving up' d1.err" "2
0"
check "... then lbuffer says what became of it" \
	"grep -q 'lbuffer: chunk $id (3 events): the output failed' d1.err &&
	 grep -q 'retries exhausted (--retry-max-times); 3 events moved' d1.err"
# alone (or with a variable lbuffer never sets), the plain message
check_err "alone: N of M events not delivered, exit 4" 4 \
	"$LF --retry-max-times 0 127.0.0.1:1 <three.bin" \
	"lforward: 3 of 3 events not delivered"
check "... with nothing about lbuffer" "! grep -q lbuffer .err"
check_err "LBUFFER_CHUNK_ID not 16 hex digits: the plain message" 4 \
	"LBUFFER_CHUNK_ID=x $LF --retry-max-times 0 127.0.0.1:1 <three.bin" \
	"giving up a request of 3 events for app: retries exhausted"

# the end of the input with a request not acked: said once, how long at
# most (--retry-max-times 0: one try of 10s connect, 60s send, 2s ack)
$PY "$PEER" server silent.port silent 30 >/dev/null 2>&1 &
spid=$!
wait_for "test -s silent.port"
sport=$(cat silent.port)
check_err "end of input, no ack: exit 4" 4 \
	"$LF --ack --ack-timeout 2s --retry-max-times 0 127.0.0.1:$sport \
	 <three.bin" "end of input: waiting for acks from 127.0.0.1:$sport: \
1 requests (3 events) outstanding, at most 1m12s (--retry-max-times and \
the timeouts)"
cp .err eof.err
check_out "... once" "grep -c 'waiting for' eof.err" 1
kill $spid 2>/dev/null
wait $spid 2>/dev/null

# SIGTERM while the server is down: the wait is --shutdown-timeout's
mkfifo in.fifo
lforward --heartbeat none --retry-wait 50ms --retry-forever \
	--shutdown-timeout 2s 127.0.0.1:1 <in.fifo 2>term.err &
lpid=$!
exec 3>in.fifo
cat three.bin >&3
wait_for "grep -q 'unable to connect' term.err" 100
kill -TERM $lpid
wait $lpid
rc=$?
exec 3>&-
check_out "SIGTERM, server down: exit 4" "echo $rc" 4
check "... says it waits for a connection, at most --shutdown-timeout" \
	"grep -Eq '^lforward: stopping: waiting for a connection to \
127\.0\.0\.1:1: 1 requests \(3 events\) outstanding, at most [0-9.]+s \
\(--shutdown-timeout\)$' term.err"

# a quick end says nothing of a wait
lrecv_start r
check_exit "delivered at once: exit 0" 0 "$LF --ack 127.0.0.1:$port <three.bin"
check "... and no message" "! test -s .out"
lrecv_stop r
