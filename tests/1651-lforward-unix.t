#!/bin/sh
# lforward to unix:PATH servers (fluent-cat -u, Fluent Bit's unix_path):
# acks, heartbeats by connecting, failover, usage errors
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 10

count() { $PY "$FWD" decode <"$T/$1.out" | wc -l | tr -d ' '; }
$PY "$FWD" events 3000 lf.unix >"$T/ev.bin"
# about 2 s of input: heartbeats every 100ms meanwhile
feed() {
	$PY -c 'import sys, time
d = open(sys.argv[1], "rb").read()
h = len(d) // 2
sys.stdout.buffer.write(d[:h]); sys.stdout.flush()
time.sleep(2)
sys.stdout.buffer.write(d[h:])' "$T/ev.bin"
}

lrecv_start u --unix "$T/u.sock" --stats
check_exit 'lforward --ack unix:PATH: exit 0' 0 \
	'lforward --ack --heartbeat none --chunk-limit-records 500 unix:"$T/u.sock" <"$T/ev.bin"'
check_exit '--heartbeat transport (connections) every 100ms, input for 2 s: exit 0' 0 \
	'feed | lforward --ack --heartbeat transport --heartbeat-interval 100ms \
		--flush-interval 100ms unix:"$T/u.sock"'
lrecv_stop u
check_same 'every event arrived once, twice over' \
	'$PY "$FWD" decode <"$T/u.out" | sort | uniq -c | awk "{print \$1}" | sort | uniq -c | tr -s " "' \
	'echo " 3000 2"'
check 'the heartbeats connected: lrecv saw more than 10 connections' \
	'test "$(sed -n "s/.*connections \([0-9]*\).*/\1/p" "$T/u.err")" -gt 10'

check_err 'a unix socket nobody listens at: exit 4, the path said' 4 \
	'lforward --heartbeat none --retry-max-times 0 unix:"$T/none.sock" <"$T/ev.bin"' \
	'none.sock: unable to connect'
lrecv_start sec --unix "$T/sec.sock"
check_exit 'a dead TCP server, a unix --secondary: exit 0' 0 \
	'lforward --heartbeat none --retry-max-times 0 --retry-wait 50ms --secondary unix:"$T/sec.sock" 127.0.0.1:1 <"$T/ev.bin"'
lrecv_stop sec
check_same 'the secondary got all of them' 'count sec' 'echo 3000'

check_err '--heartbeat udp with a unix server: usage error' 2 \
	'lforward --heartbeat udp unix:"$T/u.sock" </dev/null' 'heartbeat udp'
check_err '--tls with a unix server: usage error' 2 \
	'lforward --tls unix:"$T/u.sock" </dev/null' 'tls'
check_err 'unix: with no path: usage error' 2 \
	'lforward unix: </dev/null' 'unix:PATH'
